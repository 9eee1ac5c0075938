;; Addressing modes for additions: a shift by 1-3 feeding only an add, an
;; add feeding only an add of a constant, and both at once fold into one
;; `lea base + index*scale + disp` (32-bit for i32: the sum wraps at 2^32
;; as i32.add does). A shift by 4, or one used twice, is computed on its
;; own.
(module
  (func (param i32 i32) (result i32)
    (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 2))))
  (func (param i64 i64) (result i64)
    (i64.add (i64.add (local.get 0) (local.get 1)) (i64.const 40)))
  (func (param i32 i32) (result i32)
    (i32.add (i32.add (i32.shl (local.get 1) (i32.const 3)) (local.get 0)) (i32.const -16)))
  (func (param i32 i32) (result i32)
    (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 4))))
  (func (param i32 i32) (result i32) (local i32)
    (local.set 2 (i32.shl (local.get 1) (i32.const 1)))
    (i32.mul (i32.add (local.get 0) (local.get 2)) (local.get 2))))
