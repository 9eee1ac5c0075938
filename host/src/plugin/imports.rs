//! What a plugin imports: the SDK's runtime services (module `scion`:
//! panic messages and log records) and the host interfaces it calls
//! (module `scion-host`, served by the `Dispatch` implementations the host
//! registered).

use super::{BufferError, PluginData, SharedServer, guest_buffer, schema_check};
use crate::info::ImportType;
use crate::types::{FuncType, ValType};
use crate::{Caller, Error, Extern, Func, Module, Result, Store, Val};
use scion_sdk::abi;
use scion_sdk::schema::{Abi, OwnedMethod, OwnedType, SchemaSection};
use scion_sdk::shape::Shape;
use scion_sdk::wire::{self, Scalar};
use std::collections::HashMap;
use std::sync::Arc;

/// Longest panic message or log record kept, in bytes; a plugin cannot
/// make the host hold or log more.
const MAX_MESSAGE: usize = 16 * 1024;

/// Longest log target (module path) kept, in bytes.
const MAX_TARGET: usize = 256;

/// The imports of `module`, in order.
pub(crate) fn link(
    store: &mut Store<PluginData>,
    module: &Module,
    schema: &SchemaSection,
) -> Result<Vec<Extern>> {
    let plugin = store.data().name.clone();
    let mut externs = Vec::with_capacity(module.imports().len());
    // A module may import one name many times (up to the validator's
    // limit on imports): each name is checked and served once.
    let mut made: HashMap<(&str, &str), Func> = HashMap::new();
    #[cfg(feature = "wasi")]
    let mut wasi: Option<crate::Linker<PluginData>> = None;
    for import in module.imports() {
        let (m, n) = (import.module.as_str(), import.name.as_str());
        let unknown = || {
            Error::Link(format!(
                "plugin `{plugin}` imports `{m}::{n}`, which Scion does not provide \
                 (plugins import only from `{}`, `{}` and `{}`)",
                abi::RUNTIME_MODULE,
                abi::HOST_MODULE,
                crate::info::WASI_MODULE
            ))
        };
        let ImportType::Func(type_index) = import.ty else { return Err(unknown()) };
        let ty = &module.info().types[type_index as usize];
        if let Some(&func) = made.get(&(m, n)) {
            expect_type(&plugin, m, n, ty, &func.ty(store))?;
            externs.push(Extern::Func(func));
            continue;
        }
        let func = match (m, n) {
            (abi::RUNTIME_MODULE, abi::PANIC_IMPORT) => {
                expect_type(&plugin, m, n, ty, &FuncType::new([ValType::I32, ValType::I32], []))?;
                Func::wrap(store, |mut caller: Caller<'_, PluginData>, (ptr, len): (i32, i32)| {
                    let message = read_message(&caller, ptr, len, MAX_MESSAGE);
                    caller.data_mut().panic = Some(message);
                })
            }
            (abi::RUNTIME_MODULE, abi::LOG_IMPORT) => {
                expect_type(&plugin, m, n, ty, &FuncType::new([ValType::I32; 5], []))?;
                Func::wrap(
                    store,
                    |caller: Caller<'_, PluginData>, args: (i32, i32, i32, i32, i32)| {
                        forward_log(&caller, args)
                    },
                )
            }
            (abi::HOST_MODULE, _) => host_method(store, schema, n, ty)?,
            #[cfg(feature = "wasi")]
            (crate::info::WASI_MODULE, _) => {
                let linker = wasi.get_or_insert_with(|| {
                    let mut l = crate::Linker::new();
                    crate::wasi::add_to_linker(&mut l, store, plugin_wasi);
                    l
                });
                let Some(Extern::Func(func)) = linker.get(m, n) else { return Err(unknown()) };
                expect_type(&plugin, m, n, ty, &func.ty(store))?;
                func
            }
            #[cfg(not(feature = "wasi"))]
            (crate::info::WASI_MODULE, _) => {
                return Err(Error::Link(format!(
                    "plugin `{plugin}` imports `{m}::{n}` (WASI), and this Scion was built \
                     without its `wasi` feature"
                )));
            }
            _ => return Err(unknown()),
        };
        made.insert((m, n), func);
        externs.push(Extern::Func(func));
    }
    Ok(externs)
}

/// The plugin's WASI state (made before its imports are linked).
#[cfg(feature = "wasi")]
fn plugin_wasi(data: &mut PluginData) -> &mut crate::wasi::WasiCtx {
    data.wasi.get_or_insert_with(crate::wasi::WasiCtx::empty)
}

fn expect_type(plugin: &str, m: &str, n: &str, got: &FuncType, want: &FuncType) -> Result<()> {
    if got == want {
        return Ok(());
    }
    Err(Error::Link(format!(
        "plugin `{plugin}` imports `{m}::{n}` with type {got}, but it has type {want}"
    )))
}

/// Reads a UTF-8 message from plugin memory, lossily: at most `max`
/// bytes of it are read (a longer one is cut, and says so), and the text
/// kept is at most `max` bytes plus the note.
fn read_message(caller: &Caller<'_, PluginData>, ptr: i32, len: i32, max: usize) -> String {
    let Some(memory) = caller.get_memory("memory") else { return "<plugin has no memory>".into() };
    let (ptr, len) = (ptr as u32, len as u32);
    let kept = len.min(u32::try_from(max).unwrap_or(u32::MAX));
    let Ok(bytes) = guest_buffer(memory.data(caller), ptr, kept, kept) else {
        return format!("<message out of bounds: {len} bytes at {ptr:#x}>");
    };
    let mut text = String::from_utf8_lossy(bytes).into_owned();
    // Replacement characters take three bytes for one: cut again.
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    if kept < len {
        text.push_str(&format!("... ({len} bytes, cut to {kept})"));
    }
    text
}

/// `text` with control characters escaped, so that a plugin's log record
/// stays one line and cannot forge others.
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// A guest log record, re-emitted through the host's `log` facade with
/// the plugin's name as its target.
fn forward_log(
    caller: &Caller<'_, PluginData>,
    (level, tptr, tlen, mptr, mlen): (i32, i32, i32, i32, i32),
) {
    let level = match level {
        ..=1 => log::Level::Error,
        2 => log::Level::Warn,
        3 => log::Level::Info,
        4 => log::Level::Debug,
        _ => log::Level::Trace,
    };
    let target = caller.data().name.clone();
    if !log::log_enabled!(target: &target, level) {
        return;
    }
    let module = read_message(caller, tptr, tlen, MAX_TARGET);
    let message = read_message(caller, mptr, mlen, MAX_MESSAGE);
    let (module, message) = (one_line(&module), one_line(&message));
    log::logger().log(
        &log::Record::builder()
            .level(level)
            .target(&target)
            .module_path(Some(&module))
            .args(format_args!("{message}"))
            .build(),
    );
}

/// A `scion-host` import `Interface/method`, served by a registered server.
fn host_method(
    store: &mut Store<PluginData>,
    schema: &SchemaSection,
    name: &str,
    ty: &FuncType,
) -> Result<Func> {
    let plugin = store.data().name.clone();
    let Some((iface, method)) = name.split_once('/') else {
        return Err(Error::Link(format!(
            "plugin `{plugin}` imports `{}::{name}`, which is not of the form Interface/method",
            abi::HOST_MODULE
        )));
    };
    let servers = &store.data().servers;
    let Some(index) = servers.iter().position(|s| s.lock().interface().name == iface) else {
        return Err(Error::Link(format!(
            "plugin `{plugin}` calls host interface `{iface}` (method `{method}`), which this host does not \
             provide: register it with PluginBuilder::host({iface}Server(...))"
        )));
    };
    let server: SharedServer = servers[index].clone();
    let desc = server.lock().interface();
    let host_view = schema_check::check_import(&plugin, schema, desc, method)?;
    let sig = schema_check::wasm_signature(&host_view)?;
    expect_type(&plugin, abi::HOST_MODULE, name, ty, &sig)?;
    // Arguments of recursive types are checked before the server decodes
    // them (serde would recurse once per level of the plugin's choosing).
    let max_depth = store.data().wire.max_depth;
    let shape = desc
        .methods
        .iter()
        .find(|m| m.name == method)
        .map(|m| Shape::of_fields(m.params))
        .filter(|s| s.needs_check(max_depth))
        .map(Arc::new);
    let method = Served { name: method.to_string(), qualified: format!("{iface}.{method}"), shape };
    Ok(match host_view.abi {
        Abi::Serialized => Func::new(store, sig, move |caller, params, results| {
            results[0] = Val::I64(serve_serialized(caller, &server, &method, params)?);
            Ok(())
        }),
        Abi::Scalar => {
            let result = host_view.result.clone();
            Func::new(store, sig, move |_caller, params, results| {
                serve_scalar(&server, &method.name, &host_view, &result, params, results)
            })
        }
    })
}

/// A host method a plugin imports.
struct Served {
    /// As the server knows it.
    name: String,
    /// `Interface.method`, for messages.
    qualified: String,
    /// The shape of its arguments, when they can nest without bound.
    shape: Option<Arc<Shape>>,
}

fn serve_serialized(
    mut caller: Caller<'_, PluginData>,
    server: &SharedServer,
    served: &Served,
    params: &[Val],
) -> Result<i64> {
    let method = &served.qualified;
    let (Val::I32(ptr), Val::I32(len)) = (&params[0], &params[1]) else {
        unreachable!("the import's type was checked")
    };
    let (ptr, len) = (*ptr as u32, *len as u32);
    let guest = caller.data().guest.ok_or_else(|| {
        Error::Usage(format!(
            "plugin `{}` called the host before it was instantiated",
            caller.data().name
        ))
    })?;
    let limits = caller.data().wire;
    let plugin = caller.data().name.clone();
    // Checked against the memory and the message limit before anything is
    // allocated; then copied once, straight from the memory.
    let input = match guest_buffer(guest.memory.data(&caller), ptr, len, limits.max_message) {
        Ok(bytes) => bytes.to_vec(),
        Err(BufferError::OutOfBounds) => {
            return Err(Error::Wire(format!(
                "plugin `{plugin}` passed an out-of-bounds buffer ({len} bytes at {ptr:#x}) to \
                 host method `{method}`"
            )));
        }
        Err(BufferError::TooLarge) => {
            return Err(Error::Limit(format!(
                "plugin `{plugin}` passed {len} bytes to host method `{method}`, more than the \
                 limit of {} (PluginBuilder::max_message_size)",
                limits.max_message
            )));
        }
    };
    if let Some(shape) = &served.shape {
        shape.check(&input, limits.max_depth).map_err(|e| {
            Error::Wire(format!(
                "plugin `{plugin}`: the arguments it passed to host method `{method}` are \
                 refused: {e}{}",
                super::transport::depth_hint(&e)
            ))
        })?;
    }
    let output = server.lock().call(&served.name, &input).map_err(|e| {
        Error::Wire(format!("plugin `{plugin}` called host method `{method}`: {e}"))
    })?;
    let out_len = i32::try_from(output.len()).map_err(|_| {
        Error::Wire(format!("a {} byte reply is too large for a plugin", output.len()))
    })?;
    let out_ptr = guest.alloc.call(&mut caller, out_len)?;
    if out_ptr == 0 {
        return Err(Error::Limit(format!(
            "plugin `{}` could not allocate {out_len} bytes for a host reply",
            caller.data().name
        )));
    }
    guest.memory.write(&mut caller, out_ptr as u32 as usize, &output).map_err(|_| {
        Error::Wire(format!("plugin `{}` allocated an out-of-bounds buffer", caller.data().name))
    })?;
    Ok(wire::pack(out_ptr as u32, out_len as u32))
}

fn serve_scalar(
    server: &SharedServer,
    method: &str,
    view: &OwnedMethod,
    result: &OwnedType,
    params: &[Val],
    results: &mut [Val],
) -> Result<()> {
    let args: Vec<Scalar> = params
        .iter()
        .map(|v| match *v {
            Val::I32(x) => Scalar::I32(x),
            Val::I64(x) => Scalar::I64(x),
            Val::F32(x) => Scalar::F32(f32::from_bits(x)),
            Val::F64(x) => Scalar::F64(f64::from_bits(x)),
            _ => unreachable!("scalar imports have numeric types"),
        })
        .collect();
    let out = server.lock().call_scalar(method, &args)?;
    match (out, results.first_mut()) {
        (Some(s), Some(slot)) => {
            *slot = match s {
                Scalar::I32(x) => Val::I32(x),
                Scalar::I64(x) => Val::I64(x),
                Scalar::F32(x) => Val::F32(x.to_bits()),
                Scalar::F64(x) => Val::F64(x.to_bits()),
            };
            if slot.ty() != results_type(result) {
                return Err(Error::Wire(format!(
                    "host method `{}` returned a value of the wrong type",
                    view.name
                )));
            }
            Ok(())
        }
        (None, None) => Ok(()),
        _ => Err(Error::Wire(format!(
            "host method `{}` returned the wrong number of values",
            view.name
        ))),
    }
}

fn results_type(t: &OwnedType) -> ValType {
    match t {
        OwnedType::Leaf("u64" | "i64") => ValType::I64,
        OwnedType::Leaf("f32") => ValType::F32,
        OwnedType::Leaf("f64") => ValType::F64,
        _ => ValType::I32,
    }
}
