;; Linear memory: a load and a store with their bounds checks against the
;; current length, a narrow sign-extending load with an offset, memory.grow
;; through the builtin table and memory.size from the length in the vmctx.
;; A one-byte access at offset 0 is checked with `cmp addr, length` alone;
;; a constant is stored as an immediate.
(module
  (memory 1 4)
  (func (param i32) (result i32)
    (i32.load (local.get 0)))
  (func (param i32 i64)
    (i64.store offset=8 (local.get 0) (local.get 1)))
  (func (param i32) (result i32)
    (i32.load16_s offset=2 (local.get 0)))
  (func (param i32) (result i32)
    (i32.add (memory.grow (local.get 0)) (memory.size)))
  (func (param i32) (result i32)
    (i32.store8 (local.get 0) (i32.const 1))
    (i32.load8_u (local.get 0))))
