;; scion: no-opt
;; The optimizer off: the functions of opt-fold.wat with only the minimal
;; cleanup lowering needs, so the constant arithmetic, the constant branch
;; and the dead arm all reach the machine code.
(module
  (func (result i32)
    (i32.mul (i32.add (i32.const 2) (i32.const 3)) (i32.const 4)))
  (func (param i32) (result i32)
    (if (result i32) (i32.eq (i32.const 1) (i32.const 1))
      (then (i32.add (local.get 0) (i32.const 1)))
      (else (i32.div_u (local.get 0) (i32.const 0))))))
