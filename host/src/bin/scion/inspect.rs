//! `scion inspect PLUGIN.wasm`: a plugin's interfaces (from its schema
//! section), imports, exports, memories and tables, without compiling it.

use scion::Module;
use scion::info::{ExternKind, ImportType, ModuleInfo, SourceMap};
use scion::types::{Limits, WASM_PAGE_SIZE};
use scion_sdk::schema::{Abi, Direction, OwnedInterface, OwnedType, SchemaSection};
use std::collections::HashSet;
use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn main(args: &[String]) -> Result<ExitCode, String> {
    let [path] = args else { return Err("inspect needs exactly one file".into()) };
    let info = Module::describe_file(path).map_err(|e| e.to_string())?;
    let name = Path::new(path).file_stem().and_then(|s| s.to_str()).unwrap_or("plugin");
    let schema = scion::plugin::read_schema(name, &info).map_err(|e| e.to_string())?;
    let source = Module::describe_source_file(path).map_err(|e| e.to_string())?;
    print!("{}", report(&info, &schema, source.as_ref()));
    Ok(ExitCode::SUCCESS)
}

/// The whole report.
fn report(info: &ModuleInfo, schema: &SchemaSection, source: Option<&SourceMap>) -> String {
    let mut out = String::new();
    let mut named = Named::default();
    for (title, direction) in
        [("implements", Direction::Export), ("calls host interfaces", Direction::Import)]
    {
        let ifaces: Vec<&OwnedInterface> =
            schema.interfaces.iter().filter(|i| i.direction == direction).collect();
        if ifaces.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}:");
        for iface in ifaces {
            let _ = writeln!(out, "  interface {}", iface.name);
            for m in &iface.methods {
                let abi = if m.abi == Abi::Scalar { "  [scalar]" } else { "" };
                let _ = writeln!(out, "    {m}{abi}");
                for (_, t) in &m.params {
                    collect_named(t, &mut named);
                }
                collect_named(&m.result, &mut named);
            }
        }
    }
    if schema.interfaces.is_empty() {
        out.push_str("no Scion interfaces (no `scion-schema` section: not built with #[scion_sdk::plugin])\n");
    }
    for (title, t) in [("configuration", &schema.config), ("hot-reload state", &schema.state)] {
        if let Some(t) = t {
            let _ = writeln!(out, "{title}: {t}");
            collect_named(t, &mut named);
        }
    }
    if !named.order.is_empty() {
        out.push_str("types:\n");
        for t in &named.order {
            let _ = writeln!(out, "  {}", definition(t));
        }
    }
    out.push_str("imports:\n");
    if info.imports.is_empty() {
        out.push_str("  (none)\n");
    }
    for i in &info.imports {
        let what = match &i.ty {
            ImportType::Func(t) => format!("function {}", info.types[*t as usize]),
            ImportType::Memory(m) => format!("memory {}", pages(&m.limits)),
            ImportType::Table(t) => format!("table of {} {}", t.element, elements(&t.limits)),
            ImportType::Global(g) => {
                format!("global {}{}", if g.mutable { "mut " } else { "" }, g.content)
            }
        };
        let _ = writeln!(out, "  {}::{}  {what}", i.module, i.name);
    }
    out.push_str("exports:\n");
    for e in &info.exports {
        let mut what = match e.kind {
            ExternKind::Func => format!("function {}", info.func_type(e.index)),
            kind => kind.to_string(),
        };
        if let Some(at) =
            source.filter(|_| e.kind == ExternKind::Func).and_then(|s| s.function(e.index))
        {
            let _ = write!(what, "  at {at}");
        }
        let _ = writeln!(out, "  {}  {what}", e.name);
    }
    match source {
        Some(s) => {
            let _ = writeln!(
                out,
                "debug information: line tables for {} source files",
                s.files().len()
            );
        }
        None => {
            out.push_str("debug information: none (traps name wasm offsets, not source lines)\n")
        }
    }
    out.push_str("memories:\n");
    if info.memories.is_empty() {
        out.push_str("  (none)\n");
    }
    for (i, m) in info.memories.iter().enumerate() {
        let _ = writeln!(out, "  {i}: {}", pages(&m.limits));
    }
    out.push_str("tables:\n");
    if info.tables.is_empty() {
        out.push_str("  (none)\n");
    }
    for (i, t) in info.tables.iter().enumerate() {
        let _ = writeln!(out, "  {i}: {} {}", t.element, elements(&t.limits));
    }
    out
}

fn pages(l: &Limits) -> String {
    let bytes = |p: u64| format_bytes(p.saturating_mul(WASM_PAGE_SIZE));
    match l.max {
        Some(max) => format!(
            "{} pages ({}) initial, at most {max} pages ({})",
            l.min,
            bytes(l.min),
            bytes(max)
        ),
        None => format!("{} pages ({}) initial, no maximum", l.min, bytes(l.min)),
    }
}

fn elements(l: &Limits) -> String {
    match l.max {
        Some(max) => format!("{} elements initial, at most {max}", l.min),
        None => format!("{} elements initial, no maximum", l.min),
    }
}

fn format_bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.2} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.2} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

/// Structs and enums, each once, in the order first seen.
#[derive(Default)]
struct Named<'a> {
    order: Vec<&'a OwnedType>,
    /// The same, to look up (a scan of `order` per type made a section of
    /// many types quadratic).
    seen: HashSet<&'a OwnedType>,
}

/// Structs and enums reachable from `t`, each once.
fn collect_named<'a>(t: &'a OwnedType, out: &mut Named<'a>) {
    match t {
        OwnedType::Leaf(_) | OwnedType::Ref(_) => {}
        OwnedType::Option(e) | OwnedType::List(e) | OwnedType::Array(e, _) => collect_named(e, out),
        OwnedType::Map(a, b) | OwnedType::Result(a, b) => {
            collect_named(a, out);
            collect_named(b, out);
        }
        OwnedType::Tuple(ts) => ts.iter().for_each(|t| collect_named(t, out)),
        OwnedType::Struct(_, fields) => {
            if out.seen.insert(t) {
                out.order.push(t);
                fields.iter().for_each(|(_, t)| collect_named(t, out));
            }
        }
        OwnedType::Enum(_, variants) => {
            if out.seen.insert(t) {
                out.order.push(t);
                variants.iter().flat_map(|(_, fs)| fs).for_each(|(_, t)| collect_named(t, out));
            }
        }
    }
}

fn fields(fs: &[(String, OwnedType)]) -> String {
    let tuple = fs.iter().enumerate().all(|(i, (n, _))| *n == i.to_string());
    let items: Vec<String> =
        fs.iter().map(|(n, t)| if tuple { t.to_string() } else { format!("{n}: {t}") }).collect();
    if tuple { format!("({})", items.join(", ")) } else { format!(" {{ {} }}", items.join(", ")) }
}

/// `struct Point { x: f64, y: f64 }`, `enum Shape { Circle { .. }, Empty }`.
fn definition(t: &OwnedType) -> String {
    match t {
        OwnedType::Struct(name, fs) if fs.is_empty() => format!("struct {name}"),
        OwnedType::Struct(name, fs) => format!("struct {name}{}", fields(fs)),
        OwnedType::Enum(name, vs) => {
            let vs: Vec<String> = vs
                .iter()
                .map(|(v, fs)| if fs.is_empty() { v.clone() } else { format!("{v}{}", fields(fs)) })
                .collect();
            format!("enum {name} {{ {} }}", vs.join(", "))
        }
        other => other.to_string(),
    }
}
