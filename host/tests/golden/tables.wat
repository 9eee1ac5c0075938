;; Tables: table.get and table.set with their bounds checks, table.size,
;; and table.grow through a builtin.
(module
  (table $t 1 10 funcref)
  (func (param i32) (result funcref)
    (table.get $t (local.get 0)))
  (func (param i32 funcref)
    (table.set $t (local.get 0) (local.get 1)))
  (func (param funcref i32) (result i32)
    (i32.add (table.grow $t (local.get 0) (local.get 1)) (table.size $t))))
