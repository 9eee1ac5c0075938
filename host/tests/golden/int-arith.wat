;; Integer arithmetic: mul, then an add of a constant (one lea), signed
;; division with its trap checks (zero, overflow), a shift by a variable
;; amount (through cl) and by a constant, and the bit-counting operators
;; without lzcnt/tzcnt.
(module
  (func (param i32 i32) (result i32)
    (i32.add (i32.mul (local.get 0) (local.get 1)) (i32.const 7)))
  (func (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func (param i64 i64) (result i64)
    (i64.rotl (i64.shl (local.get 0) (local.get 1)) (i64.const 3)))
  (func (param i32) (result i32)
    (i32.add (i32.clz (local.get 0)) (i32.popcnt (local.get 0)))))
