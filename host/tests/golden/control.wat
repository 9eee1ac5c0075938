;; Control flow: a counting loop (loop header, back edge), if/else joining
;; into a block parameter, and br_table with a jump table in the data after
;; the code.
(module
  (func (param i32) (result i32) (local i32)
    (block
      (loop
        (br_if 1 (i32.eqz (local.get 0)))
        (local.set 1 (i32.add (local.get 1) (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br 0)))
    (local.get 1))
  (func (param i32 i32) (result i32)
    (if (result i32) (local.get 0)
      (then (i32.add (local.get 1) (i32.const 1)))
      (else (i32.sub (local.get 1) (i32.const 1)))))
  (func (param i32) (result i32)
    (block (block (block
      (br_table 0 1 2 (local.get 0)))
      (return (i32.const 10)))
      (return (i32.const 20)))
    (i32.const 30)))
