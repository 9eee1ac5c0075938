;; Float arithmetic: SSE add/mul, neg/abs/copysign through constant-pool
;; masks, min/max with their NaN and signed-zero handling, a comparison
;; with its unordered case, and sqrt/nearest.
(module
  (func (param f64 f64) (result f64)
    (f64.add (f64.mul (local.get 0) (local.get 1)) (f64.const 1.5)))
  (func (param f32 f32) (result f32)
    (f32.copysign (f32.neg (local.get 0)) (local.get 1)))
  (func (param f64 f64) (result f64)
    (f64.min (local.get 0) (local.get 1)))
  (func (param f32 f32) (result i32)
    (i32.add (f32.eq (local.get 0) (local.get 1))
             (i32.trunc_f32_s (f32.nearest (f32.sqrt (local.get 0)))))))
