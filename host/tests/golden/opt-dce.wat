;; Optimizer, dead code: values computed but never used (a dropped sum, a
;; local overwritten before it is read) are removed; a dropped division
;; stays, because it may trap.
(module
  (func (param i32 i32) (result i32) (local i32)
    (drop (i32.add (local.get 0) (local.get 1)))
    (local.set 2 (i32.mul (local.get 0) (local.get 0)))
    (local.set 2 (local.get 1))
    (drop (i32.div_s (local.get 0) (local.get 1)))
    (local.get 2)))
