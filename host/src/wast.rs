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

impl WastReport {
    fn fail(&mut self, line: usize, msg: String) {
        self.failed += 1;
        self.failures.push(format!("{}:{line}: {msg}", self.file.display()));
    }
    fn check(&mut self, line: usize, r: Result<(), String>) {
        match r {
            Ok(()) => self.passed += 1,
            Err(m) => self.fail(line, m),
        }
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
                let msg = p
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
    current: Option<Instance>,
    named: HashMap<String, Instance>,
    definitions: HashMap<String, Module>,
    last_definition: Option<Module>,
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
    let global = |store: &mut Store<()>, ty, v| Global::new(store, GlobalType { content: ty, mutable: false }, v).unwrap();
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
    .unwrap();
    linker.define("spectest", "table", table);
    let memory = Memory::new(store, MemoryType { limits: Limits { min: 1, max: Some(2) }, shared: false }).unwrap();
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

impl Context {
    fn new(engine: &Engine) -> Context {
        let mut store = Store::new(engine, ());
        let mut linker = Linker::new();
        spectest(&mut store, &mut linker);
        Context {
            engine: engine.clone(),
            store,
            linker,
            current: None,
            named: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
        }
    }

    fn compile(&self, wat: &mut QuoteWat<'_>) -> Result<Module, String> {
        let bytes = wat.encode().map_err(|e| format!("wat: {e}"))?;
        Module::from_binary(&self.engine, &bytes).map_err(|e| e.to_string())
    }

    fn instance(&self, id: Option<wast::token::Id<'_>>) -> Result<Instance, String> {
        match id {
            Some(id) => self.named.get(id.name()).copied().ok_or_else(|| format!("no module ${}", id.name())),
            None => self.current.ok_or_else(|| "no current module".to_string()),
        }
    }

    /// Runs one directive; `None` for directives that are not assertions
    /// and succeeded.
    fn run(&mut self, d: WastDirective<'_>) -> Option<Result<(), String>> {
        match d {
            WastDirective::Module(mut w) => {
                let name = module_name(&w);
                let r = self.compile(&mut w).and_then(|m| {
                    self.linker.instantiate(&mut self.store, &m).map_err(|e| format!("instantiation failed: {e}"))
                });
                match r {
                    Ok(i) => {
                        self.current = Some(i);
                        if let Some(n) = name {
                            self.named.insert(n, i);
                        }
                        None
                    }
                    Err(e) => {
                        self.current = None;
                        Some(Err(format!("module: {e}")))
                    }
                }
            }
            WastDirective::ModuleDefinition(mut w) => {
                let name = module_name(&w);
                match self.compile(&mut w) {
                    Ok(m) => {
                        if let Some(n) = name {
                            self.definitions.insert(n, m.clone());
                        }
                        self.last_definition = Some(m);
                        None
                    }
                    Err(e) => Some(Err(format!("module definition: {e}"))),
                }
            }
            WastDirective::ModuleInstance { instance, module, .. } => {
                let m = match module {
                    Some(id) => self.definitions.get(id.name()).cloned(),
                    None => self.last_definition.clone(),
                };
                let Some(m) = m else { return Some(Err("no module definition".into())) };
                match self.linker.instantiate(&mut self.store, &m) {
                    Ok(i) => {
                        self.current = Some(i);
                        if let Some(n) = instance {
                            self.named.insert(n.name().to_string(), i);
                        }
                        None
                    }
                    Err(e) => Some(Err(format!("instantiation failed: {e}"))),
                }
            }
            WastDirective::Register { name, module, .. } => match self.instance(module) {
                Ok(i) => {
                    self.linker.instance(&self.store, name, i);
                    None
                }
                Err(e) => Some(Err(e)),
            },
            WastDirective::Invoke(invoke) => match self.invoke(&invoke) {
                Ok(_) => None,
                Err(e) => Some(Err(format!("invoke {}: {e}", invoke.name))),
            },
            WastDirective::AssertMalformed { mut module, .. }
            | WastDirective::AssertInvalid { mut module, .. } => Some(match self.compile(&mut module) {
                Ok(_) => Err("module was accepted".into()),
                Err(_) => Ok(()),
            }),
            WastDirective::AssertUnlinkable { mut module, .. } => {
                let bytes = match module.encode() {
                    Ok(b) => b,
                    Err(e) => return Some(Err(format!("wat: {e}"))),
                };
                Some(match Module::from_binary(&self.engine, &bytes) {
                    Err(e) => Err(format!("does not compile: {e}")),
                    Ok(m) => match self.linker.instantiate(&mut self.store, &m) {
                        Ok(_) => Err("module was linked".into()),
                        Err(Error::Link(_)) | Err(Error::Limit(_)) => Ok(()),
                        Err(e) => Err(format!("failed, but not to link: {e}")),
                    },
                })
            }
            // A malformed custom annotation may be rejected by the text
            // parser; in binary form, custom sections never affect validity,
            // so the module must then load with the section ignored.
            WastDirective::AssertMalformedCustom { mut module, .. }
            | WastDirective::AssertInvalidCustom { mut module, .. } => Some(match module.encode() {
                Err(_) => Ok(()),
                Ok(bytes) => Module::from_binary(&self.engine, &bytes).map(|_| ()).map_err(|e| e.to_string()),
            }),
            WastDirective::AssertTrap { exec, message, .. } => Some(self.assert_trap(exec, message)),
            WastDirective::AssertExhaustion { call, message, .. } => Some(match self.invoke(&call) {
                Ok(v) => Err(format!("expected exhaustion ({message}), got {v:?}")),
                Err(Error::Trap(t)) if t.code == TrapCode::StackOverflow => Ok(()),
                Err(e) => Err(format!("expected exhaustion, got {e}")),
            }),
            WastDirective::AssertReturn { exec, results, .. } => Some(self.assert_return(exec, &results)),
            other => Some(Err(format!("unsupported directive at {:?}", other.span()))),
        }
    }

    fn assert_trap(&mut self, exec: WastExecute<'_>, message: &str) -> Result<(), String> {
        let result = match exec {
            WastExecute::Invoke(i) => self.invoke(&i).map(|_| ()),
            WastExecute::Wat(mut w) => {
                let m = self.compile_wat(&mut w)?;
                self.linker.instantiate(&mut self.store, &m).map(|_| ())
            }
            WastExecute::Get { .. } => return Err("get cannot trap".into()),
        };
        match result {
            Err(Error::Trap(t)) if trap_matches(t.code, message) => Ok(()),
            Err(Error::Trap(t)) => Err(format!("expected trap `{message}`, got `{}`", t.code)),
            Err(e) => Err(format!("expected trap `{message}`, got error {e}")),
            Ok(()) => Err(format!("expected trap `{message}`, returned normally")),
        }
    }

    fn compile_wat(&self, w: &mut Wat<'_>) -> Result<Module, String> {
        let bytes = w.encode().map_err(|e| format!("wat: {e}"))?;
        Module::from_binary(&self.engine, &bytes).map_err(|e| e.to_string())
    }

    fn assert_return(&mut self, exec: WastExecute<'_>, expected: &[WastRet<'_>]) -> Result<(), String> {
        let got = match exec {
            WastExecute::Invoke(i) => self.invoke(&i).map_err(|e| e.to_string())?,
            WastExecute::Get { module, global, .. } => {
                let inst = self.instance(module)?;
                let g = inst.get_global(&self.store, global).ok_or_else(|| format!("no global {global}"))?;
                vec![g.get(&self.store)]
            }
            WastExecute::Wat(mut w) => {
                let m = self.compile_wat(&mut w)?;
                self.linker.instantiate(&mut self.store, &m).map_err(|e| e.to_string())?;
                vec![]
            }
        };
        if got.len() != expected.len() {
            return Err(format!("expected {} results, got {got:?}", expected.len()));
        }
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            let WastRet::Core(e) = e else { return Err("component result".into()) };
            if !ret_matches(g, e) {
                return Err(format!("result {i}: expected {e:?}, got {g:?}"));
            }
        }
        Ok(())
    }

    fn invoke(&mut self, invoke: &wast::WastInvoke<'_>) -> Result<Vec<Val>, Error> {
        let inst = self.instance(invoke.module).map_err(Error::Usage)?;
        let func = inst
            .get_func(&self.store, invoke.name)
            .ok_or_else(|| Error::Usage(format!("no export {}", invoke.name)))?;
        let args = invoke.args.iter().map(arg_val).collect::<Result<Vec<_>, _>>().map_err(Error::Usage)?;
        let ty = func.ty(&self.store);
        let mut results: Vec<Val> = ty.results.iter().map(|&t| Val::default_for(t)).collect();
        func.call(&mut self.store, &args, &mut results)?;
        Ok(results)
    }
}

fn arg_val(a: &WastArg<'_>) -> Result<Val, String> {
    let WastArg::Core(a) = a else { return Err("component argument".into()) };
    Ok(match a {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(f) => Val::F32(f.bits),
        WastArgCore::F64(f) => Val::F64(f.bits),
        WastArgCore::RefNull(wast::core::HeapType::Abstract { ty: wast::core::AbstractHeapType::Func, .. }) => {
            Val::FuncRef(None)
        }
        WastArgCore::RefNull(_) => Val::ExternRef(None),
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(crate::ExternRef(*n))),
        other => return Err(format!("unsupported argument {other:?}")),
    })
}

fn ret_matches(got: &Val, expected: &WastRetCore<'_>) -> bool {
    match (got, expected) {
        (Val::I32(g), WastRetCore::I32(e)) => g == e,
        (Val::I64(g), WastRetCore::I64(e)) => g == e,
        (Val::F32(g), WastRetCore::F32(p)) => match p {
            NanPattern::CanonicalNan => g & 0x7fff_ffff == 0x7fc0_0000,
            NanPattern::ArithmeticNan => g & 0x7fc0_0000 == 0x7fc0_0000,
            NanPattern::Value(v) => *g == v.bits,
        },
        (Val::F64(g), WastRetCore::F64(p)) => match p {
            NanPattern::CanonicalNan => g & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
            NanPattern::ArithmeticNan => g & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
            NanPattern::Value(v) => *g == v.bits,
        },
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
