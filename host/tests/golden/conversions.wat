;; Conversions: wraps and extensions, a trapping float-to-int truncation
;; (NaN and range checks), the saturating one, unsigned int-to-float, and
;; reinterpretation.
(module
  (func (param i64) (result i64)
    (i64.extend_i32_s (i32.wrap_i64 (local.get 0))))
  (func (param f64) (result i32)
    (i32.trunc_f64_u (local.get 0)))
  (func (param f32) (result i64)
    (i64.trunc_sat_f32_s (local.get 0)))
  (func (param i64) (result f64)
    (f64.add (f64.convert_i64_u (local.get 0))
             (f64.reinterpret_i64 (local.get 0)))))
