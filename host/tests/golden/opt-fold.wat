;; Optimizer, constant folding: arithmetic on constants becomes one
;; constant, a branch on a constant becomes a jump, and the arm it can no
;; longer reach is removed.
(module
  (func (result i32)
    (i32.mul (i32.add (i32.const 2) (i32.const 3)) (i32.const 4)))
  (func (param i32) (result i32)
    (if (result i32) (i32.eq (i32.const 1) (i32.const 1))
      (then (i32.add (local.get 0) (i32.const 1)))
      (else (i32.div_u (local.get 0) (i32.const 0))))))
