//! A `.wast` spec-test runner: parses scripts with the `wast` crate and
//! runs every directive against Scion (`scion wast`, `tests/spec.rs`).
//!
//! All modules of one script share one store, so `register` and imports
//! between them behave as the spec interpreter does. The `spectest` host
//! module provides the print functions, globals, table and memory.

use crate::{
    Engine, Error, Func, FuncType, Global, GlobalType, Instance, Limits, Linker, Memory,
    MemoryType, Module, Store, Table, TableType, TrapCode, Val, ValType,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::{QuoteWat, WastArg, WastDirective, WastExecute, WastRet, Wat};

/// The outcome of one script.
#[derive(Debug, Default, Clone)]
pub struct WastReport {
    /// The script.
    pub file: PathBuf,
    /// Assertions that held.
    pub passed: usize,
    /// Assertions (or setup directives) that did not.
    pub failed: usize,
    /// How many of the failures come from modules that need WebAssembly
    /// features Scion does not implement yet (they validate with all
    /// features enabled, but not with Scion's), or from directives that
    /// depend on such modules.
    pub unsupported: usize,
    /// One line per failure: line number and what went wrong.
    pub failures: Vec<String>,
}

/// Runs a script file.
pub fn run_file(engine: &Engine, path: &Path) -> WastReport {
    let mut report = WastReport { file: path.to_path_buf(), ..Default::default() };
    match std::fs::read_to_string(path) {
        Ok(text) => run_script(engine, &text, &mut report),
        Err(e) => report.fail(0, format!("cannot read: {e}")),
    }
    report
}

/// Runs a script given as text.
pub fn run_str(engine: &Engine, name: &str, text: &str) -> WastReport {
    let mut report = WastReport { file: PathBuf::from(name), ..Default::default() };
    run_script(engine, text, &mut report);
    report
}

/// Why a directive did not pass.
#[derive(Debug)]
struct Failure {
    message: String,
    /// Caused by a feature Scion does not implement.
    unsupported: bool,
}

impl Failure {
    fn new(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), unsupported: false }
    }
    fn unsupported(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), unsupported: true }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::new(message)
    }
}

impl WastReport {
    fn fail(&mut self, line: usize, msg: String) {
        self.failed += 1;
        self.failures.push(format!("{}:{line}: {msg}", self.file.display()));
    }
    fn check(&mut self, line: usize, r: Result<(), Failure>) {
        match r {
            Ok(()) => self.passed += 1,
            Err(f) if f.unsupported => {
                self.unsupported += 1;
                self.fail(line, format!("[unsupported feature] {}", f.message));
            }
            Err(f) => self.fail(line, f.message),
        }
    }

    /// Failures not explained by unsupported features.
    pub fn genuine_failures(&self) -> usize {
        self.failed - self.unsupported
    }
}

fn run_script(engine: &Engine, text: &str, report: &mut WastReport) {
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = match wast::parser::ParseBuffer::new_with_lexer(lexer) {
        Ok(b) => b,
        Err(e) => return report.fail(0, format!("cannot lex: {e}")),
    };
    let script: wast::Wast<'_> = match wast::parser::parse(&buf) {
        Ok(s) => s,
        Err(e) => return report.fail(0, format!("cannot parse: {e}")),
    };
    let mut ctx = Context::new(engine);
    let trace = std::env::var_os("SCION_WAST_TRACE").is_some();
    for directive in script.directives {
        let line = directive.span().linecol_in(text).0 + 1;
        if trace {
            eprintln!("{}:{line}", report.file.display());
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ctx.run(directive)));
        match outcome {
            Ok(Some(r)) => report.check(line, r),
            Ok(None) => {}
            Err(p) => {
                let msg: String = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                report.fail(line, format!("runner panicked: {msg}"));
            }
        }
    }
}

struct Context {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    current: Result<Instance, Failure>,
    named: HashMap<String, Result<Instance, bool>>,
    /// Module definitions; `Err(true)` when one needs unsupported features.
    definitions: HashMap<String, Result<Module, bool>>,
    last_definition: Option<Result<Module, bool>>,
    /// Module names registered from instances that could not be created
    /// because they need unsupported features.
    poisoned_names: Vec<String>,
}

fn spectest(store: &mut Store<()>, linker: &mut Linker<()>) {
    use ValType::*;
    let print = |store: &mut Store<()>, params: Vec<ValType>| {
        Func::new(store, FuncType::new(params, vec![]), |_, _, _| Ok(()))
    };
    for (name, params) in [
        ("print", vec![]),
        ("print_i32", vec![I32]),
        ("print_i64", vec![I64]),
        ("print_f32", vec![F32]),
        ("print_f64", vec![F64]),
        ("print_i32_f32", vec![I32, F32]),
        ("print_f64_f64", vec![F64, F64]),
    ] {
        let f = print(store, params);
        linker.define("spectest", name, f);
    }
    let global = |store: &mut Store<()>, ty, v| {
        Global::new(store, GlobalType { content: ty, mutable: false }, v).expect("spectest global")
    };
    let g = global(store, I32, Val::I32(666));
    linker.define("spectest", "global_i32", g);
    let g = global(store, I64, Val::I64(666));
    linker.define("spectest", "global_i64", g);
    let g = global(store, F32, Val::f32(666.6));
    linker.define("spectest", "global_f32", g);
    let g = global(store, F64, Val::f64(666.6));
    linker.define("spectest", "global_f64", g);
    let table = Table::new(
        store,
        TableType { element: FuncRef, limits: Limits { min: 10, max: Some(20) } },
        Val::FuncRef(None),
    )
    .expect("spectest table");
    linker.define("spectest", "table", table);
    let memory =
        Memory::new(store, MemoryType { limits: Limits { min: 1, max: Some(2) }, shared: false })
            .expect("spectest memory");
    linker.define("spectest", "memory", memory);
}

fn trap_matches(code: TrapCode, expected: &str) -> bool {
    let ours = code.message();
    if ours.starts_with(expected) || expected.starts_with(ours) {
        return true;
    }
    // Messages the suite uses for the same condition.
    matches!(
        (code, expected),
        (TrapCode::TableOutOfBounds, "undefined element")
            | (TrapCode::IndirectCallToNull, "uninitialized element")
            | (TrapCode::NullReference, "null function reference")
    )
}

fn module_name(w: &QuoteWat<'_>) -> Option<String> {
    match w {
        QuoteWat::Wat(Wat::Module(m)) => m.id.map(|i| i.name().to_string()),
        _ => None,
    }
}

type Outcome = Result<(), Failure>;

impl Context {
    fn new(engine: &Engine) -> Context {
        let mut store = Store::new(engine, ());
        let mut linker = Linker::new();
        spectest(&mut store, &mut linker);
        Context {
            engine: engine.clone(),
            store,
            linker,
            current: Err(Failure::new("no module defined yet")),
            named: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
            poisoned_names: Vec::new(),
        }
    }

    /// Compiles binary `bytes`, telling unsupported features apart.
    fn compile_bytes(&self, bytes: &[u8]) -> Result<Module, Failure> {
        Module::from_binary(&self.engine, bytes).map_err(|e| {
            if crate::compiler::decode::needs_unsupported_features(bytes) {
                Failure::unsupported(e.to_string())
            } else {
                Failure::new(e.to_string())
            }
        })
    }

    fn compile(&self, wat: &mut QuoteWat<'_>) -> Result<Module, Failure> {
        let bytes = wat.encode().map_err(|e| Failure::new(format!("wat: {e}")))?;
        self.compile_bytes(&bytes)
    }

    fn compile_wat(&self, w: &mut Wat<'_>) -> Result<Module, Failure> {
        let bytes = w.encode().map_err(|e| Failure::new(format!("wat: {e}")))?;
        self.compile_bytes(&bytes)
    }

    /// Instantiates with the linker; missing imports from registered names
    /// whose instances needed unsupported features count as unsupported.
    fn instantiate(&mut self, m: &Module) -> Result<Instance, Failure> {
        let poisoned = m.imports().iter().any(|i| {
            self.poisoned_names.contains(&i.module) && self.linker.get(&i.module, &i.name).is_none()
        });
        self.linker.instantiate(&mut self.store, m).map_err(|e| {
            let msg = format!("instantiation failed: {e}");
            if poisoned { Failure::unsupported(msg) } else { Failure::new(msg) }
        })
    }

    fn instance(&self, id: Option<wast::token::Id<'_>>) -> Result<Instance, Failure> {
        match id {
            Some(id) => match self.named.get(id.name()) {
                Some(Ok(i)) => Ok(*i),
                Some(Err(true)) => Err(Failure::unsupported(format!(
                    "module ${} needs unsupported features",
                    id.name()
                ))),
                _ => Err(Failure::new(format!("no module ${}", id.name()))),
            },
            None => match &self.current {
                Ok(i) => Ok(*i),
                Err(f) if f.unsupported => {
                    Err(Failure::unsupported("the current module needs unsupported features"))
                }
                Err(f) => Err(Failure::new(format!("no current module ({})", f.message))),
            },
        }
    }

    fn set_current(
        &mut self,
        name: Option<String>,
        r: Result<Instance, Failure>,
    ) -> Option<Outcome> {
        if let Some(n) = name {
            self.named.insert(n, r.as_ref().map(|i| *i).map_err(|f| f.unsupported));
        }
        let outcome = match &r {
            Ok(_) => None,
            Err(f) => Some(Err(Failure {
                message: format!("module: {}", f.message),
                unsupported: f.unsupported,
            })),
        };
        self.current = r;
        outcome
    }

    /// Runs one directive; `None` for directives that are not assertions
    /// and succeeded.
    fn run(&mut self, d: WastDirective<'_>) -> Option<Outcome> {
        match d {
            WastDirective::Module(mut w) => {
                let name = module_name(&w);
                let r = self.compile(&mut w).and_then(|m| self.instantiate(&m));
                self.set_current(name, r)
            }
            WastDirective::ModuleDefinition(mut w) => {
                let name = module_name(&w);
                let r = self.compile(&mut w);
                let entry = r.as_ref().map(Module::clone).map_err(|f| f.unsupported);
                if let Some(n) = name {
                    self.definitions.insert(n, entry.clone());
                }
                self.last_definition = Some(entry);
                r.err().map(Err)
            }
            WastDirective::ModuleInstance { instance, module, .. } => {
                let m = match module {
                    Some(id) => self.definitions.get(id.name()).cloned(),
                    None => self.last_definition.clone(),
                };
                let r = match m {
                    Some(Ok(m)) => self.instantiate(&m),
                    Some(Err(true)) => Err(Failure::unsupported(
                        "the module definition needs unsupported features",
                    )),
                    _ => Err(Failure::new("no module definition")),
                };
                self.set_current(instance.map(|i| i.name().to_string()), r)
            }
            WastDirective::Register { name, module, .. } => match self.instance(module) {
                Ok(i) => {
                    self.linker.instance(&self.store, name, i);
                    None
                }
                Err(f) => {
                    if f.unsupported {
                        self.poisoned_names.push(name.to_string());
                    }
                    Some(Err(f))
                }
            },
            WastDirective::Invoke(invoke) => match self.invoke(&invoke) {
                Ok(_) => None,
                Err(f) => Some(Err(Failure {
                    message: format!("invoke {}: {}", invoke.name, f.message),
                    ..f
                })),
            },
            WastDirective::AssertMalformed { mut module, .. }
            | WastDirective::AssertInvalid { mut module, .. } => {
                Some(match self.compile(&mut module) {
                    Ok(_) => Err(Failure::new("module was accepted")),
                    Err(_) => Ok(()),
                })
            }
            // A malformed custom annotation may be rejected by the text
            // parser; in binary form, custom sections never affect validity,
            // so the module must then load with the section ignored.
            WastDirective::AssertMalformedCustom { mut module, .. }
            | WastDirective::AssertInvalidCustom { mut module, .. } => {
                Some(match module.encode() {
                    Err(_) => Ok(()),
                    Ok(bytes) => self.compile_bytes(&bytes).map(|_| ()),
                })
            }
            WastDirective::AssertUnlinkable { mut module, .. } => {
                Some(self.compile_wat(&mut module).and_then(|m| match self.instantiate(&m) {
                    Ok(_) => Err(Failure::new("module was linked")),
                    Err(f)
                        if f.message.contains("link error")
                            || f.message.contains("limit exceeded") =>
                    {
                        Ok(())
                    }
                    Err(f) => Err(Failure {
                        message: format!("failed, but not to link: {}", f.message),
                        ..f
                    }),
                }))
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                Some(self.assert_trap(exec, message))
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                Some(match self.invoke_raw(&call) {
                    Ok(Ok(v)) => {
                        Err(Failure::new(format!("expected exhaustion ({message}), got {v:?}")))
                    }
                    Ok(Err(Error::Trap(t))) if t.code == TrapCode::StackOverflow => Ok(()),
                    Ok(Err(e)) => Err(Failure::new(format!("expected exhaustion, got {e}"))),
                    Err(f) => Err(f),
                })
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                Some(self.assert_return(exec, &results))
            }
            WastDirective::AssertException { .. } => {
                Some(Err(Failure::unsupported("exceptions are not implemented")))
            }
            other => Some(Err(Failure::unsupported(format!(
                "directive at {:?} is not supported",
                other.span()
            )))),
        }
    }

    fn assert_trap(&mut self, exec: WastExecute<'_>, message: &str) -> Outcome {
        let result = match exec {
            WastExecute::Invoke(i) => self.invoke_raw(&i)?.map(|_| ()),
            WastExecute::Wat(mut w) => {
                let m = self.compile_wat(&mut w)?;
                self.linker.instantiate(&mut self.store, &m).map(|_| ())
            }
            WastExecute::Get { .. } => return Err(Failure::new("get cannot trap")),
        };
        match result {
            Err(Error::Trap(t)) if trap_matches(t.code, message) => Ok(()),
            Err(Error::Trap(t)) => {
                Err(Failure::new(format!("expected trap `{message}`, got `{}`", t.code)))
            }
            Err(e) => Err(Failure::new(format!("expected trap `{message}`, got error {e}"))),
            Ok(()) => Err(Failure::new(format!("expected trap `{message}`, returned normally"))),
        }
    }

    fn assert_return(&mut self, exec: WastExecute<'_>, expected: &[WastRet<'_>]) -> Outcome {
        let got = match exec {
            WastExecute::Invoke(i) => {
                self.invoke_raw(&i)?.map_err(|e| Failure::new(e.to_string()))?
            }
            WastExecute::Get { module, global, .. } => {
                let inst = self.instance(module)?;
                let g = inst
                    .get_global(&self.store, global)
                    .ok_or_else(|| Failure::new(format!("no global {global}")))?;
                vec![g.get(&self.store)]
            }
            WastExecute::Wat(mut w) => {
                let m = self.compile_wat(&mut w)?;
                self.instantiate(&m)?;
                vec![]
            }
        };
        if got.len() != expected.len() {
            return Err(Failure::new(format!("expected {} results, got {got:?}", expected.len())));
        }
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            let WastRet::Core(e) = e else {
                return Err(Failure::unsupported("component result"));
            };
            if !ret_matches(g, e) {
                return Err(Failure::new(format!("result {i}: expected {e:?}, got {g:?}")));
            }
        }
        Ok(())
    }

    fn invoke(&mut self, invoke: &wast::WastInvoke<'_>) -> Result<Vec<Val>, Failure> {
        self.invoke_raw(invoke)?.map_err(|e| Failure::new(e.to_string()))
    }

    /// Calls an export; the outer error is a setup failure (missing module
    /// or export), the inner one what the call returned.
    fn invoke_raw(
        &mut self,
        invoke: &wast::WastInvoke<'_>,
    ) -> Result<Result<Vec<Val>, Error>, Failure> {
        let inst = self.instance(invoke.module)?;
        let func = inst
            .get_func(&self.store, invoke.name)
            .ok_or_else(|| Failure::new(format!("no export {}", invoke.name)))?;
        let args = invoke.args.iter().map(arg_val).collect::<Result<Vec<_>, _>>()?;
        let ty = func.ty(&self.store);
        let mut results: Vec<Val> = ty.results.iter().map(|&t| Val::default_for(t)).collect();
        Ok(func.call(&mut self.store, &args, &mut results).map(|()| results))
    }
}

fn arg_val(a: &WastArg<'_>) -> Result<Val, Failure> {
    let WastArg::Core(a) = a else {
        return Err(Failure::unsupported("component argument"));
    };
    Ok(match a {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(f) => Val::F32(f.bits),
        WastArgCore::F64(f) => Val::F64(f.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(wast::core::HeapType::Abstract {
            ty: wast::core::AbstractHeapType::Func,
            ..
        }) => Val::FuncRef(None),
        WastArgCore::RefNull(_) => Val::ExternRef(None),
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(crate::ExternRef(*n))),
        other => {
            return Err(Failure::unsupported(format!("unsupported argument {other:?}")));
        }
    })
}

fn f32_matches(g: u32, p: &NanPattern<wast::token::F32>) -> bool {
    match p {
        NanPattern::CanonicalNan => g & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => g & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => g == v.bits,
    }
}

fn f64_matches(g: u64, p: &NanPattern<wast::token::F64>) -> bool {
    match p {
        NanPattern::CanonicalNan => g & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => g & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(v) => g == v.bits,
    }
}

/// Whether v128 `g` matches a lane pattern (exact integer lanes; float
/// lanes by value or NaN class).
fn v128_matches(g: u128, p: &wast::core::V128Pattern) -> bool {
    use wast::core::V128Pattern as V;
    let lane = |i: usize, bits: u32| (g >> (i as u32 * bits)) & ((1u128 << bits) - 1);
    match p {
        V::I8x16(l) => l.iter().enumerate().all(|(i, &v)| lane(i, 8) == v as u8 as u128),
        V::I16x8(l) => l.iter().enumerate().all(|(i, &v)| lane(i, 16) == v as u16 as u128),
        V::I32x4(l) => l.iter().enumerate().all(|(i, &v)| lane(i, 32) == v as u32 as u128),
        V::I64x2(l) => l.iter().enumerate().all(|(i, &v)| lane(i, 64) == v as u64 as u128),
        V::F32x4(l) => l.iter().enumerate().all(|(i, p)| f32_matches(lane(i, 32) as u32, p)),
        V::F64x2(l) => l.iter().enumerate().all(|(i, p)| f64_matches(lane(i, 64) as u64, p)),
    }
}

fn ret_matches(got: &Val, expected: &WastRetCore<'_>) -> bool {
    match (got, expected) {
        (Val::I32(g), WastRetCore::I32(e)) => g == e,
        (Val::I64(g), WastRetCore::I64(e)) => g == e,
        (Val::F32(g), WastRetCore::F32(p)) => f32_matches(*g, p),
        (Val::F64(g), WastRetCore::F64(p)) => f64_matches(*g, p),
        (Val::V128(g), WastRetCore::V128(p)) => v128_matches(*g, p),
        (Val::FuncRef(g), WastRetCore::RefNull(_)) => g.is_none(),
        (Val::ExternRef(g), WastRetCore::RefNull(_)) => g.is_none(),
        (Val::FuncRef(g), WastRetCore::RefFunc(_)) => g.is_some(),
        (Val::ExternRef(g), WastRetCore::RefExtern(e)) => match e {
            None => g.is_some(),
            Some(n) => *g == Some(crate::ExternRef(*n)),
        },
        (_, WastRetCore::Either(options)) => options.iter().any(|o| ret_matches(got, o)),
        _ => false,
    }
}

/// Groups of `GROUPS.tsv` in the test suite.
pub fn read_groups(suite: &Path) -> std::io::Result<Vec<(String, usize, PathBuf)>> {
    let text = std::fs::read_to_string(suite.join("GROUPS.tsv"))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let group = f.next()?.to_string();
            let count = f.next()?.parse().ok()?;
            let path = suite.join(f.next()?);
            Some((group, count, path))
        })
        .collect())
}
