;; Optimizer, redundant block parameters: a local that a loop never
;; changes gets a block parameter at the loop header during translation
;; (compare .ir.raw); the pass replaces it with its one incoming value.
(module
  (func (param i32 i32) (result i32)
    (loop
      (local.set 0 (i32.add (local.get 0) (local.get 1)))
      (br_if 0 (i32.lt_u (local.get 0) (i32.const 100))))
    (i32.add (local.get 0) (local.get 1))))
