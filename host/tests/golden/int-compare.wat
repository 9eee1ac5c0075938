;; Integer comparisons: a comparison materialised as 0/1 (setcc), one fused
;; into the branch that uses it (cmp + jcc), one fused into a select
;; (cmov), and eqz.
(module
  (func (param i32 i32) (result i32)
    (i32.lt_s (local.get 0) (local.get 1)))
  (func (param i64 i64) (result i64)
    (if (result i64) (i64.ge_u (local.get 0) (local.get 1))
      (then (local.get 0))
      (else (local.get 1))))
  (func (param i32 i32 i32) (result i32)
    (select (local.get 0) (local.get 1) (i32.ne (local.get 2) (i32.const 0))))
  (func (param i64) (result i32)
    (i64.eqz (local.get 0))))
