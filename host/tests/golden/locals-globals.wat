;; Locals and globals: locals become SSA values (no memory traffic), an
;; immutable global is read from the vmctx, a mutable one is read and
;; written there, and local.tee.
(module
  (global $k i32 (i32.const 5))
  (global $g (mut i64) (i64.const 0))
  (func (param i32) (result i32) (local i32)
    (local.set 1 (i32.add (local.get 0) (global.get $k)))
    (i32.mul (local.tee 0 (local.get 1)) (local.get 0)))
  (func (param i64)
    (global.set $g (i64.add (global.get $g) (local.get 0)))))
