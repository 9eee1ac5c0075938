;; Calls: a direct call, a call to an import (through the vmctx, switching
;; instances), call_indirect with its table bounds and signature checks, and
;; a call with more arguments and results than registers hold (stack
;; arguments and results).
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (table 2 funcref)
  (func $inc (param i32) (result i32)
    (i32.add (local.get 0) (i32.const 1)))
  (func (param i32) (result i32)
    (call $host (call $inc (local.get 0))))
  (func (param i32 i32) (result i32)
    (call_indirect (type $t) (local.get 1) (local.get 0)))
  (func $many (param i64 i64 i64 i64 i64 i64 i64 i64) (result i64 i64 i64)
    (call $many (local.get 7) (local.get 6) (local.get 5) (local.get 4)
                (local.get 3) (local.get 2) (local.get 1) (local.get 0))))
