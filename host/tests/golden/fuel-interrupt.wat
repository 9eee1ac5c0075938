;; scion: fuel interruptible
;; Fuel and interruption: the counter kept in a register, the check points
;; at function entry and at the loop header (fuel sign and interrupt flag,
;; slow paths out of line calling the shared yield routine), the counter
;; stored before a call and reloaded after it. In the second loop the
;; compare that controls the branch is still fused with it (`cmp`+`jcc`)
;; although the fuel counter is updated between the two.
(module
  (func $leaf (result i32) (i32.const 1))
  (func (param i32) (result i32)
    (loop
      (local.set 0 (i32.sub (local.get 0) (call $leaf)))
      (br_if 0 (local.get 0)))
    (local.get 0))
  (func (param i32) (result i32) (local i32)
    (loop
      (local.set 1 (i32.add (local.get 1) (i32.const 3)))
      (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))
    (local.get 1)))
