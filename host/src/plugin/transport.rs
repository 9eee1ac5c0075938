//! Calls into a plugin: the host side of the SDK's calling conventions
//! (`scion_sdk::abi`), behind the `Transport` trait the generated clients
//! use.

use super::{MethodExport, Plugin, schema_check};
use crate::runtime::values::ValRaw;
use crate::types::{FuncType, ValType};
use crate::{Error, Func, Result};
use scion_sdk::abi;
use scion_sdk::host::Transport;
use scion_sdk::schema::{Direction, InterfaceDesc, OwnedInterface};
use scion_sdk::wire::{self, Scalar};

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
    ) -> Result<(Func, Option<ValType>)> {
        // A linear scan: plugins export few methods, and comparing short
        // names beats hashing them on every call.
        if let Some(e) =
            self.exports.iter().find(|e| *e.method == *method && *e.interface == *interface)
        {
            return Ok((e.func, e.result));
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
        });
        Ok((func, result))
    }

    /// Reads and frees a buffer the plugin returned.
    pub(super) fn take_output(&mut self, packed: i64) -> Result<Vec<u8>> {
        let (ptr, len) = wire::unpack(packed);
        let mut out = vec![0; len as usize];
        self.guest.memory.read(&self.store, ptr as usize, &mut out).map_err(|_| {
            Error::Wire(format!(
                "plugin `{}` returned an out-of-bounds buffer ({len} bytes at {ptr:#x})",
                self.name()
            ))
        })?;
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
            self.method_export(interface.name, &m.name, |t| *t == sig, || sig.to_string())?;
        }
        self.checked.push(interface);
        Ok(())
    }

    fn call(&mut self, interface: &str, method: &str, input: &[u8]) -> Result<Vec<u8>> {
        let (func, _) = self.method_export(
            interface,
            method,
            |t| *t == serialized_type(),
            || serialized_type().to_string(),
        )?;
        self.guarded(|p| {
            let (ptr, len) = p.write_input(input)?;
            let mut slots =
                [ValRaw::from_u64(ptr as u32 as u64), ValRaw::from_u64(len as u32 as u64)];
            func.call_raw(&mut p.store, &mut slots)?;
            p.take_output(slots[0].u64() as i64)
        })
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
        let (func, result_ty) = self.method_export(interface, method, params_fit, wanted)?;
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
