;; Register pressure: fifteen i64 values live at once, more than the ten
;; allocatable GPRs. Linear scan spills the cheapest whole lives to stack
;; slots; the local-copy pass then gives a spilled value a free register
;; over a stretch of its block where it is read more than once ("copied
;; in ... loaded"), so the stretch reloads it once; the last definition in
;; a stretch also stores it ("stored at").
(module
  (func (export "pressure") (param $x i64) (result i64)
    (local $a i64) (local $b i64) (local $c i64) (local $d i64) (local $e i64)
    (local $f i64) (local $g i64) (local $h i64) (local $i i64) (local $j i64)
    (local $k i64) (local $l i64) (local $m i64) (local $n i64)
    (local.set $a (i64.mul (local.get $x) (i64.const 3)))
    (local.set $b (i64.add (local.get $x) (i64.const 5)))
    (local.set $c (i64.xor (local.get $a) (local.get $b)))
    (local.set $d (i64.rotl (local.get $c) (i64.const 7)))
    (local.set $e (i64.sub (local.get $d) (local.get $a)))
    (local.set $f (i64.mul (local.get $e) (local.get $b)))
    (local.set $g (i64.add (local.get $f) (local.get $c)))
    (local.set $h (i64.xor (local.get $g) (local.get $d)))
    (local.set $i (i64.add (local.get $h) (local.get $e)))
    (local.set $j (i64.mul (local.get $i) (local.get $f)))
    (local.set $k (i64.sub (local.get $j) (local.get $g)))
    (local.set $l (i64.xor (local.get $k) (local.get $h)))
    (local.set $m (i64.add (local.get $l) (local.get $i)))
    (local.set $n (i64.mul (local.get $m) (local.get $j)))
    ;; Every value is read again here, after all were computed.
    (i64.add
      (i64.add
        (i64.add (i64.add (local.get $a) (local.get $b)) (i64.add (local.get $c) (local.get $d)))
        (i64.add (i64.add (local.get $e) (local.get $f)) (i64.add (local.get $g) (local.get $h))))
      (i64.add
        (i64.add (i64.add (local.get $i) (local.get $j)) (i64.add (local.get $k) (local.get $l)))
        (i64.add (i64.mul (local.get $m) (local.get $a)) (i64.mul (local.get $n) (local.get $b)))))))
