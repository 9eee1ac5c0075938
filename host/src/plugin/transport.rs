//! Calls into a plugin: the host side of the SDK's calling conventions
//! (`scion_sdk::abi`), behind the `Transport` trait the generated clients
//! use.

use super::{BufferError, MethodExport, Plugin, guest_buffer, schema_check};
use crate::runtime::values::ValRaw;
use crate::types::{FuncType, ValType};
use crate::{Error, Result};
use scion_sdk::abi;
use scion_sdk::host::Transport;
use scion_sdk::schema::{Abi, Direction, InterfaceDesc, OwnedInterface};
use scion_sdk::shape::{Shape, ShapeError, ShapeErrorKind};
use scion_sdk::wire::{self, Scalar};
use std::sync::Arc;

/// What to add to a refusal for nesting too deep: where the limit is set.
pub(super) fn depth_hint(e: &ShapeError) -> &'static str {
    match e.kind {
        ShapeErrorKind::TooDeep { .. } => " (the limit is PluginBuilder::max_nesting)",
        _ => "",
    }
}

/// Most scalar arguments a call passes without allocating.
const INLINE_SLOTS: usize = 16;

impl Plugin {
    /// The export behind `interface.method`, checked by `fits` (described
    /// by `wanted` in the error) the first time it is looked up.
    fn method_export(
        &mut self,
        interface: &str,
        method: &str,
        fits: impl FnOnce(&FuncType) -> bool,
        wanted: impl FnOnce() -> String,
    ) -> Result<usize> {
        // A linear scan: plugins export few methods, and comparing short
        // names beats hashing them on every call.
        if let Some(i) =
            self.exports.iter().position(|e| *e.method == *method && *e.interface == *interface)
        {
            return Ok(i);
        }
        let name = abi::method_export(interface, method);
        let func = self.instance.get_func(&self.store, &name).ok_or_else(|| {
            Error::Link(format!(
                "plugin `{}` has no export `{name}` (method `{interface}.{method}`)",
                self.name()
            ))
        })?;
        let ty = func.ty(&self.store);
        if !fits(&ty) {
            return Err(Error::Schema(format!(
                "plugin `{}`: export `{name}` has type {ty}, but the call needs {}",
                self.name(),
                wanted()
            )));
        }
        let result = ty.results.first().copied();
        self.exports.push(MethodExport {
            interface: interface.into(),
            method: method.into(),
            func,
            result,
            result_shape: None,
        });
        Ok(self.exports.len() - 1)
    }

    /// Reads and frees a buffer the plugin returned (a packed pointer and
    /// length, both the plugin's word): checked against the plugin's
    /// memory and the message limit before the host allocates the copy.
    pub(super) fn take_output(&mut self, packed: i64) -> Result<Vec<u8>> {
        let (ptr, len) = wire::unpack(packed);
        let max = self.settings.wire.max_message;
        let data = self.guest.memory.data(&self.store);
        let out = match guest_buffer(data, ptr, len, max) {
            Ok(bytes) => bytes.to_vec(),
            Err(BufferError::OutOfBounds) => {
                return Err(Error::Wire(format!(
                    "plugin `{}` returned an out-of-bounds buffer ({len} bytes at {ptr:#x}, \
                     memory of {} bytes)",
                    self.name(),
                    data.len()
                )));
            }
            Err(BufferError::TooLarge) => {
                // A real buffer: give it back before refusing it.
                self.guest.free.call(&mut self.store, (ptr as i32, len as i32))?;
                return Err(Error::Limit(format!(
                    "plugin `{}` returned {len} bytes, more than the limit of {max} \
                     (PluginBuilder::max_message_size)",
                    self.name()
                )));
            }
        };
        self.guest.free.call(&mut self.store, (ptr as i32, len as i32))?;
        Ok(out)
    }
}

fn scalar_type(s: &Scalar) -> ValType {
    match s {
        Scalar::I32(_) => ValType::I32,
        Scalar::I64(_) => ValType::I64,
        Scalar::F32(_) => ValType::F32,
        Scalar::F64(_) => ValType::F64,
    }
}

fn to_raw(s: &Scalar) -> ValRaw {
    match *s {
        Scalar::I32(v) => ValRaw::from_u64(v as u32 as u64),
        Scalar::I64(v) => ValRaw::from_u64(v as u64),
        Scalar::F32(v) => ValRaw::from_u64(v.to_bits() as u64),
        Scalar::F64(v) => ValRaw::from_u64(v.to_bits()),
    }
}

fn from_raw(raw: ValRaw, ty: ValType) -> Option<Scalar> {
    Some(match ty {
        ValType::I32 => Scalar::I32(raw.u32() as i32),
        ValType::I64 => Scalar::I64(raw.u64() as i64),
        ValType::F32 => Scalar::F32(f32::from_bits(raw.u32())),
        ValType::F64 => Scalar::F64(f64::from_bits(raw.u64())),
        _ => return None,
    })
}

fn serialized_type() -> FuncType {
    FuncType::new([ValType::I32, ValType::I32], [ValType::I64])
}

impl Transport for Plugin {
    type Error = Error;

    fn check(&mut self, interface: &'static InterfaceDesc) -> Result<()> {
        if self.checked.iter().any(|c| std::ptr::eq(*c, interface)) {
            return Ok(());
        }
        schema_check::check_export(self.name(), &self.schema, interface)?;
        // The section could lie about the exports: check them too.
        for m in OwnedInterface::of(interface, Direction::Export).methods {
            let sig = schema_check::wasm_signature(&m)?;
            let index =
                self.method_export(interface.name, &m.name, |t| *t == sig, || sig.to_string())?;
            // The host decodes results of recursive types: check their
            // nesting first (see `call`).
            let desc = interface.methods.iter().find(|d| d.name == m.name);
            self.exports[index].result_shape = desc
                .filter(|d| d.abi == Abi::Serialized)
                .map(|d| Shape::of(&d.result))
                .filter(|s| s.needs_check(self.settings.wire.max_depth))
                .map(Arc::new);
        }
        self.checked.push(interface);
        Ok(())
    }

    fn call(&mut self, interface: &str, method: &str, input: &[u8]) -> Result<Vec<u8>> {
        let index = self.method_export(
            interface,
            method,
            |t| *t == serialized_type(),
            || serialized_type().to_string(),
        )?;
        let func = self.exports[index].func;
        let output = self.guarded(|p| {
            let (ptr, len) = p.write_input(input)?;
            let mut slots =
                [ValRaw::from_u64(ptr as u32 as u64), ValRaw::from_u64(len as u32 as u64)];
            func.call_raw(&mut p.store, &mut slots)?;
            p.take_output(slots[0].u64() as i64)
        })?;
        if let Some(shape) = &self.exports[index].result_shape {
            let max_depth = self.settings.wire.max_depth;
            shape.check(&output, max_depth).map_err(|e| {
                Error::Wire(format!(
                    "plugin `{}`: the result of `{interface}.{method}` returned by the plugin is \
                     refused: {e}{}",
                    self.name(),
                    depth_hint(&e)
                ))
            })?;
        }
        Ok(output)
    }

    fn call_scalar(
        &mut self,
        interface: &str,
        method: &str,
        args: &[Scalar],
        returns: bool,
    ) -> Result<Option<Scalar>> {
        let params_fit = |t: &FuncType| {
            t.params.len() == args.len()
                && t.params.iter().zip(args).all(|(p, a)| *p == scalar_type(a))
                && t.results.len() == returns as usize
                && t.results
                    .iter()
                    .all(|r| matches!(r, ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64))
        };
        let wanted = || {
            let params: Vec<String> = args.iter().map(|a| scalar_type(a).to_string()).collect();
            format!("({}) with {} result", params.join(", "), if returns { "one" } else { "no" })
        };
        let index = self.method_export(interface, method, params_fit, wanted)?;
        let (func, result_ty) = (self.exports[index].func, self.exports[index].result);
        self.guarded(|p| {
            let mut inline = [ValRaw::default(); INLINE_SLOTS];
            let mut heap;
            let slots: &mut [ValRaw] = if args.len() <= INLINE_SLOTS {
                &mut inline[..args.len().max(1)]
            } else {
                heap = vec![ValRaw::default(); args.len()];
                &mut heap
            };
            for (s, a) in slots.iter_mut().zip(args) {
                *s = to_raw(a);
            }
            func.call_raw(&mut p.store, slots)?;
            Ok(result_ty.and_then(|t| from_raw(slots[0], t)))
        })
    }
}
