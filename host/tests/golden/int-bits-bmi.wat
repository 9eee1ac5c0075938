;; scion: lzcnt bmi1
;; Bit counting with the lzcnt and tzcnt extensions on: one instruction
;; each, where int-arith.wat (without them) needs bsr/bsf and a zero case.
(module
  (func (param i32) (result i32)
    (i32.clz (local.get 0)))
  (func (param i64) (result i64)
    (i64.ctz (local.get 0))))
