//! Compile budgets: how big a module the compiler accepts and how much
//! memory and work it may spend on one function.
//!
//! The compiler's passes are near-linear in the size of their input, but
//! two quantities can grow with the product of a function's size in two
//! dimensions: SSA block parameters (locals × joins) and the (register,
//! block) pairs where a register is live (values × blocks). Real code
//! stays far from that; a crafted module of a megabyte can ask for tens of
//! gigabytes. The compiler estimates the memory it holds for the function
//! being compiled at each stage and meters liveness, and refuses a
//! function that goes over with a [`CompileError`] that names the limit,
//! the function and the numbers, before allocating what it cannot afford.
//!
//! The budget is not code generation: it only decides whether a module is
//! compiled, never what code it gets, so it is not part of the cache key.

use super::CompileError;

/// Limits on compiling one module. The defaults accept every real module
/// seen so far (the spec suite, Rust plugins of several megabytes in
/// release and debug builds) with a wide margin.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CompileBudget {
    /// Most bytes of wasm in one module (default 256 MiB).
    pub max_module_bytes: usize,
    /// Most functions in one module, imported and defined (default
    /// 1,000,000, the JS API's limit).
    pub max_functions: u32,
    /// Most bytes of one function body (default 7,654,321, the JS API's
    /// limit).
    pub max_function_body_bytes: u32,
    /// Most locals of one function, parameters included (default 50,000,
    /// the JS API's limit; validation refuses more in any case).
    pub max_function_locals: u32,
    /// Most bytes of machine code a module may compile to (default 1 GiB;
    /// real code takes 5 to 6 bytes per byte of wasm). Values above 2 GiB
    /// count as 2 GiB: branches and calls within the text are rel32.
    pub max_code_bytes: usize,
    /// Memory the compiler may use for one function, in bytes per byte of
    /// its body (default 384): with the floor below, the estimated peak of
    /// the compiler's structures for that function (IR, SSA construction,
    /// machine code, live intervals) may not exceed
    /// `max(min_function_memory, function_memory_per_byte × body bytes)`,
    /// capped by `max_function_memory`. Functions of real code over 20 KB
    /// need under 120 (Rust, release and debug builds). The estimate is
    /// deliberately pessimistic (vectors counted at twice their length):
    /// actual use is lower. Functions are compiled one after another, so
    /// this bounds the compiler's peak besides the module's own tables.
    pub function_memory_per_byte: u32,
    /// Memory every function may use however small it is (default 64 MiB).
    pub min_function_memory: usize,
    /// Memory no function may use however big it is (default 2 GiB).
    pub max_function_memory: usize,
    /// Liveness work for one function, in (register, block) pairs visited
    /// per byte of its body (default 64; real code needs less than 5),
    /// with a floor of `min_liveness_work`. Bounds the time register
    /// allocation may take (tens of millions of pairs per second).
    pub liveness_work_per_byte: u32,
    /// Liveness work every function may use however small it is (default
    /// 2^18 pairs). Small, so that many functions of a few kilobytes
    /// cannot each spend the floor: the work a crafted function can make
    /// grows with the square of its size, and at this floor the total
    /// stays near 64 pairs per byte of the module.
    pub min_liveness_work: u64,
}

impl Default for CompileBudget {
    fn default() -> CompileBudget {
        CompileBudget {
            max_module_bytes: 256 << 20,
            max_functions: 1_000_000,
            max_function_body_bytes: 7_654_321,
            max_function_locals: 50_000,
            max_code_bytes: 1 << 30,
            function_memory_per_byte: 384,
            min_function_memory: 64 << 20,
            max_function_memory: 2 << 30,
            liveness_work_per_byte: 64,
            min_liveness_work: 1 << 18,
        }
    }
}

/// The name a knob has in `Config` (for messages).
fn knob(name: &str) -> String {
    format!("Config::compile_budget.{name}")
}

fn exceeded(message: String) -> CompileError {
    let mut e = CompileError::new(None, format!("compile budget exceeded: {message}"));
    e.budget_exceeded = true;
    e
}

impl CompileBudget {
    /// Refuses a module bigger than `max_module_bytes`.
    pub fn check_module(&self, bytes: usize) -> Result<(), CompileError> {
        if bytes > self.max_module_bytes {
            return Err(exceeded(format!(
                "the module has {bytes} bytes, more than {} allows ({})",
                knob("max_module_bytes"),
                self.max_module_bytes
            )));
        }
        Ok(())
    }

    /// Refuses a module with more than `max_functions` functions.
    pub fn check_functions(&self, funcs: usize) -> Result<(), CompileError> {
        if funcs > self.max_functions as usize {
            return Err(exceeded(format!(
                "the module has {funcs} functions, more than {} allows ({})",
                knob("max_functions"),
                self.max_functions
            )));
        }
        Ok(())
    }

    /// Refuses a module whose machine code passed `max_code_bytes`
    /// (checked after each function, `func_index` the last one).
    pub fn check_code(&self, func_index: u32, bytes: usize) -> Result<(), CompileError> {
        let max = self.max_code_bytes.min((1 << 31) - 1);
        if bytes > max {
            return Err(exceeded(format!(
                "the module's machine code reached {bytes} bytes with function {func_index}, \
                 more than {} allows ({max})",
                knob("max_code_bytes"),
            )));
        }
        Ok(())
    }

    /// The budget of one function, or an error if its body is over the
    /// size limit.
    pub fn function(
        &self,
        func_index: u32,
        body_bytes: usize,
    ) -> Result<FunctionBudget, CompileError> {
        if body_bytes > self.max_function_body_bytes as usize {
            return Err(exceeded(format!(
                "function {func_index} has a body of {body_bytes} bytes, more than {} allows ({})",
                knob("max_function_body_bytes"),
                self.max_function_body_bytes
            )));
        }
        let scaled = |per_byte: u32| (body_bytes as u64).saturating_mul(per_byte as u64);
        let memory = (scaled(self.function_memory_per_byte) as usize)
            .max(self.min_function_memory)
            .min(self.max_function_memory);
        let work = scaled(self.liveness_work_per_byte).max(self.min_liveness_work);
        let max_locals = self.max_function_locals;
        Ok(FunctionBudget { func_index, body_bytes, memory, work, max_locals })
    }
}

/// The limits that apply to one function.
#[derive(Clone, Debug)]
pub struct FunctionBudget {
    func_index: u32,
    body_bytes: usize,
    /// Bytes of estimated memory.
    memory: usize,
    /// (register, block) pairs of liveness work.
    work: u64,
    max_locals: u32,
}

impl FunctionBudget {
    /// Refuses a function with more than `max_function_locals` locals
    /// (parameters included).
    pub fn check_locals(&self, locals: u64) -> Result<(), CompileError> {
        if locals > self.max_locals as u64 {
            return Err(exceeded(format!(
                "function {} has {locals} locals, more than {} allows ({})",
                self.func_index,
                knob("max_function_locals"),
                self.max_locals
            )));
        }
        Ok(())
    }

    /// Bytes the function's structures may take.
    pub fn max_memory(&self) -> usize {
        self.memory
    }

    /// Liveness work allowed.
    pub fn max_liveness_work(&self) -> u64 {
        self.work
    }

    /// Refuses the function if `estimate` bytes, held at `stage`, are over
    /// its memory budget.
    pub fn check_memory(&self, stage: &str, estimate: usize) -> Result<(), CompileError> {
        if estimate <= self.memory { Ok(()) } else { Err(self.memory_exceeded(stage, estimate)) }
    }

    /// The error for `estimate` bytes at `stage`, over the memory budget.
    pub fn memory_exceeded(&self, stage: &str, estimate: usize) -> CompileError {
        exceeded(format!(
            "function {} (body of {} bytes) needs an estimated {} for {stage}, more than its \
             memory budget of {} ({}, {}, {})",
            self.func_index,
            self.body_bytes,
            mib(estimate),
            mib(self.memory),
            knob("function_memory_per_byte"),
            knob("min_function_memory"),
            knob("max_function_memory"),
        ))
    }

    /// The error for liveness that went over its work budget or, with
    /// `bytes_per_range`, its memory budget.
    pub fn liveness_exceeded(
        &self,
        w: &super::regalloc::TooMuchWork,
        bytes_per_range: usize,
    ) -> CompileError {
        let what = format!(
            "function {} (body of {} bytes) has {} virtual registers in {} blocks: after {} \
             registers, liveness had visited {} (register, block) pairs and built {} ranges",
            self.func_index, self.body_bytes, w.vregs, w.blocks, w.done, w.work, w.ranges
        );
        if w.work > self.work {
            exceeded(format!(
                "{what}, more pairs than its liveness budget of {} ({}, {})",
                self.work,
                knob("liveness_work_per_byte"),
                knob("min_liveness_work"),
            ))
        } else {
            exceeded(format!(
                "{what} (an estimated {}), which with the rest need more than its memory \
                 budget of {} ({}, {}, {})",
                mib(w.ranges as usize * bytes_per_range),
                mib(self.memory),
                knob("function_memory_per_byte"),
                knob("min_function_memory"),
                knob("max_function_memory"),
            ))
        }
    }
}

/// Bytes in MiB with one decimal, for messages.
fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}
