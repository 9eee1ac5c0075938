//! Programs that keep more values alive than there are registers: long
//! loop bodies over many locals (integer and float), values read far from
//! where they were written, branches inside the body, calls that clobber
//! every caller-saved register, and loads and stores. They exercise what
//! random modules rarely reach: spills, the block-local register copies of
//! spilled values, and the moves between them.

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The text of one program for `seed`: a module exporting `run`
/// (nullary, returning a checksum of every local) and its memory.
pub fn program(seed: u64) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let ints = 6 + rng.below(30);
    let floats = rng.below(20);
    let statements = 20 + rng.below(160);
    let iterations = 1 + rng.below(40);
    let mut body = String::new();
    let int = |rng: &mut Rng| format!("$i{}", rng.below(ints));
    let float = |rng: &mut Rng| format!("$f{}", rng.below(floats.max(1)));
    let mut open_ifs = 0;
    for _ in 0..statements {
        let (a, b, c) = (int(&mut rng), int(&mut rng), int(&mut rng));
        let line = match rng.below(if floats > 0 { 16 } else { 12 }) {
            // Address arithmetic the lowering folds into one `lea`; the
            // i32 form wraps at 2^32.
            10 if floats == 0 => format!(
                "(local.set {a} (i64.add (i64.add (local.get {b}) (i64.shl (local.get {c}) (i64.const {}))) (i64.const {})))",
                1 + rng.below(4),
                rng.next() as i32
            ),
            11 if floats == 0 => format!(
                "(local.set {a} (i64.extend_i32_u (i32.add (i32.add (i32.shl (i32.wrap_i64 (local.get {c})) (i32.const {})) (i32.wrap_i64 (local.get {b}))) (i32.const {}))))",
                1 + rng.below(3),
                rng.next() as i32
            ),
            14 => format!(
                "(local.set {a} (i64.add (local.get {b}) (i64.shl (local.get {c}) (i64.const {}))))",
                1 + rng.below(3)
            ),
            15 => format!(
                "(local.set {a} (i64.extend_i32_u (i32.add (i32.add (i32.wrap_i64 (local.get {b})) (i32.wrap_i64 (local.get {c}))) (i32.const {}))))",
                rng.next() as i32
            ),
            0 => format!("(local.set {a} (i64.add (local.get {b}) (local.get {c})))"),
            1 => format!("(local.set {a} (i64.sub (local.get {b}) (local.get {c})))"),
            2 => format!("(local.set {a} (i64.mul (local.get {b}) (local.get {c})))"),
            3 => format!(
                "(local.set {a} (i64.xor (local.get {b}) (i64.rotl (local.get {c}) (i64.const {}))))",
                rng.below(64)
            ),
            4 => format!(
                "(local.set {a} (i64.or (local.get {a}) (i64.shr_u (local.get {b}) (local.get {c}))))"
            ),
            5 => format!(
                "(i64.store (i32.and (i32.wrap_i64 (local.get {b})) (i32.const 0xfff8)) (local.get {c}))"
            ),
            6 => format!(
                "(local.set {a} (i64.add (local.get {a}) (i64.load (i32.and (i32.wrap_i64 (local.get {b})) (i32.const 0xfff8)))))"
            ),
            7 => format!("(local.set {a} (call $mix (local.get {b}) (local.get {c})))"),
            8 | 9 if open_ifs < 3 && (open_ifs == 0 || rng.below(2) == 0) => {
                open_ifs += 1;
                format!("(if (i64.lt_u (local.get {b}) (local.get {c})) (then")
            }
            8 | 9 => {
                open_ifs -= 1;
                format!(
                    "(local.set {a} (i64.add (local.get {b}) (i64.const {})))))",
                    rng.next() % 1000
                )
            }
            10 => {
                let (x, y, z) = (float(&mut rng), float(&mut rng), float(&mut rng));
                format!(
                    "(local.set {x} (f64.add (local.get {y}) (f64.mul (local.get {z}) (f64.const 0.5))))"
                )
            }
            11 => {
                let (x, y) = (float(&mut rng), float(&mut rng));
                format!(
                    "(local.set {x} (f64.min (local.get {y}) (f64.convert_i64_s (local.get {b}))))"
                )
            }
            12 => {
                let x = float(&mut rng);
                format!(
                    "(local.set {a} (i64.xor (local.get {a}) (i64.trunc_sat_f64_s (local.get {x}))))"
                )
            }
            _ => {
                let (x, y) = (float(&mut rng), float(&mut rng));
                format!("(local.set {x} (f64.sub (local.get {y}) (f64.const 1.25)))")
            }
        };
        body.push_str(&line);
        body.push('\n');
    }
    body.push_str(&")".repeat(2 * open_ifs));
    let mut locals = String::new();
    let mut init = String::new();
    for i in 0..ints {
        locals.push_str(&format!("(local $i{i} i64)"));
        init.push_str(&format!("(local.set $i{i} (i64.const {}))\n", rng.next() as i64));
    }
    for f in 0..floats {
        locals.push_str(&format!("(local $f{f} f64)"));
        init.push_str(&format!("(local.set $f{f} (f64.const {}))\n", rng.below(1000) as f64 / 7.0));
    }
    let mut sum = String::from("(i64.const 0)");
    for i in 0..ints {
        sum = format!("(i64.add (i64.rotl {sum} (i64.const 7)) (local.get $i{i}))");
    }
    for f in 0..floats {
        // Saturating, not bit-exact: NaN payloads may differ between engines.
        sum = format!("(i64.xor {sum} (i64.trunc_sat_f64_s (local.get $f{f})))");
    }
    format!(
        "(module
  (memory (export \"memory\") 1)
  (func $mix (param i64 i64) (result i64)
    (i64.add (i64.mul (local.get 0) (i64.const 0x9E3779B97F4A7C15)) (local.get 1)))
  (func (export \"run\") (result i64) {locals} (local $n i32)
    {init}
    (loop $again
      {body}
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $n) (i32.const {iterations}))))
    {sum}))"
    )
}
