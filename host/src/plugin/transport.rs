//! Calls into a plugin: the host side of the SDK's calling conventions
//! (`scion_sdk::abi`), behind the `Transport` trait the generated clients
//! use.

use super::{BufferError, MethodExport, Plugin, guest_buffer, schema_check};
use crate::runtime::values::ValRaw;
use crate::types::{FuncType, ValType};
use crate::{Error, Result};
use scion_sdk::abi;
use scion_sdk::host::{Transport, method_name};
use scion_sdk::schema::{Abi, Direction, InterfaceDesc, OwnedInterface};
use scion_sdk::shape::{Shape, ShapeError, ShapeErrorKind};
use scion_sdk::wire::{self, Scalar};
use smallvec::SmallVec;
use std::sync::Arc;

/// What to add to a refusal for nesting too deep: where the limit is set.
pub(super) fn depth_hint(e: &ShapeError) -> &'static str {
    match e.kind {
        ShapeErrorKind::TooDeep { .. } => " (the limit is PluginBuilder::max_nesting)",
        _ => "",
    }
}

/// Most scalar arguments a call passes without allocating.
const INLINE_SLOTS: usize = 4;

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
            params: ty.params.clone().into(),
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
        if self.resolved(interface).is_some() {
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
        // Every method was resolved above (the schema check made sure the
        // plugin's section lists each one the interface declares).
        let indices = interface
            .methods
            .iter()
            .map(|m| {
                self.exports
                    .iter()
                    .position(|e| *e.method == *m.name && *e.interface == *interface.name)
                    .ok_or_else(|| {
                        Error::Schema(format!(
                            "plugin `{}` does not export `{}.{}`",
                            self.name(),
                            interface.name,
                            m.name
                        ))
                    })
            })
            .collect::<Result<Box<[usize]>>>()?;
        self.checked.push((interface, indices));
        Ok(())
    }

    fn call_method(
        &mut self,
        interface: &'static InterfaceDesc,
        method: usize,
        input: &[u8],
    ) -> Result<Vec<u8>> {
        match self.resolved_method(interface, method) {
            Some(index) => self.call_serialized(index, input),
            None => {
                let name = method_name(interface, method)?;
                self.call(interface.name, name, input)
            }
        }
    }

    fn call_scalar_method(
        &mut self,
        interface: &'static InterfaceDesc,
        method: usize,
        args: &[Scalar],
        returns: bool,
    ) -> Result<Option<Scalar>> {
        match self.resolved_method(interface, method) {
            Some(index) => self.call_scalar_export(index, args, returns),
            None => {
                let name = method_name(interface, method)?;
                self.call_scalar(interface.name, name, args, returns)
            }
        }
    }

    fn call_scalar_bits(
        &mut self,
        interface: &'static InterfaceDesc,
        method: usize,
        args: &[u64],
        returns: bool,
    ) -> Result<Option<u64>> {
        match self.resolved_method(interface, method) {
            Some(index) => self.call_bits_export(index, args, returns),
            None => scion_sdk::host::call_tagged(self, interface, method, args, returns),
        }
    }

    fn call(&mut self, interface: &str, method: &str, input: &[u8]) -> Result<Vec<u8>> {
        let index = self.method_export(
            interface,
            method,
            |t| *t == serialized_type(),
            || serialized_type().to_string(),
        )?;
        self.call_serialized(index, input)
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
        let index =
            self.method_export(interface, method, params_fit, || scalar_wanted(args, returns))?;
        self.call_scalar_export(index, args, returns)
    }
}

// A locked version of a reloadable plugin is called like the plugin
// itself: `FilterClient::new(&mut guard)`.
scion_sdk::__forward_transport!(impl [] for super::PluginGuard, error = Error);

/// What a scalar call with `args` needs of an export, for errors.
fn scalar_wanted(args: &[Scalar], returns: bool) -> String {
    let params: Vec<String> = args.iter().map(|a| scalar_type(a).to_string()).collect();
    format!("({}) with {} result", params.join(", "), if returns { "one" } else { "no" })
}

impl Plugin {
    /// The checked interface `interface`'s export indices by method.
    fn resolved(&self, interface: &'static InterfaceDesc) -> Option<&[usize]> {
        self.checked.iter().find(|(i, _)| std::ptr::eq(*i, interface)).map(|(_, m)| &**m)
    }

    /// The index in `exports` of method number `method` of a checked
    /// interface.
    #[inline]
    fn resolved_method(&self, interface: &'static InterfaceDesc, method: usize) -> Option<usize> {
        self.resolved(interface)?.get(method).copied()
    }

    /// Calls the serialized method export number `index`.
    fn call_serialized(&mut self, index: usize, input: &[u8]) -> Result<Vec<u8>> {
        let (interface, method) = (&self.exports[index].interface, &self.exports[index].method);
        if self.exports[index].params.len() != 2 || self.exports[index].result != Some(ValType::I64)
        {
            return Err(Error::Schema(format!(
                "plugin `{}`: `{interface}.{method}` is a scalar method, not a serialized one",
                self.name()
            )));
        }
        let func = self.exports[index].func;
        let output = self.guarded(|p| {
            let (ptr, len) = p.write_input(input)?;
            let mut slots =
                [ValRaw::from_u64(ptr as u32 as u64), ValRaw::from_u64(len as u32 as u64)];
            func.call_raw(&mut p.store, &mut slots)?;
            p.take_output(slots[0].u64() as i64)
        })?;
        let export = &self.exports[index];
        if let Some(shape) = &export.result_shape {
            let max_depth = self.settings.wire.max_depth;
            shape.check(&output, max_depth).map_err(|e| {
                Error::Wire(format!(
                    "plugin `{}`: the result of `{}.{}` returned by the plugin is refused: {e}{}",
                    self.name(),
                    export.interface,
                    export.method,
                    depth_hint(&e)
                ))
            })?;
        }
        Ok(output)
    }

    /// Calls the scalar method export number `index` with `args`, which
    /// must fit its parameters.
    fn call_scalar_export(
        &mut self,
        index: usize,
        args: &[Scalar],
        returns: bool,
    ) -> Result<Option<Scalar>> {
        let export = &self.exports[index];
        let fits = export.params.len() == args.len()
            && export.params.iter().zip(args).all(|(p, a)| *p == scalar_type(a));
        if !fits {
            return Err(self.unfit_call(index, args, returns));
        }
        let bits: SmallVec<[u64; INLINE_SLOTS]> = args.iter().map(|a| a.to_bits()).collect();
        let result = self.call_bits_export(index, &bits, returns)?;
        let ty = self.exports[index].result;
        Ok(result.zip(ty).and_then(|(r, t)| from_raw(ValRaw::from_u64(r), t)))
    }

    /// The error for a scalar call whose arguments do not fit the export.
    #[cold]
    fn unfit_call(&self, index: usize, args: &[Scalar], returns: bool) -> Error {
        let export = &self.exports[index];
        Error::Schema(format!(
            "plugin `{}`: the export of `{}.{}` does not take {}",
            self.name(),
            export.interface,
            export.method,
            scalar_wanted(args, returns)
        ))
    }

    /// Calls the scalar method export number `index` with the bits of its
    /// arguments in `args` (as many as it has parameters); returns the
    /// bits of its result.
    #[inline(always)]
    fn call_bits_export(
        &mut self,
        index: usize,
        args: &[u64],
        returns: bool,
    ) -> Result<Option<u64>> {
        let export = &self.exports[index];
        if export.params.len() != args.len() || export.result.is_some() != returns {
            return Err(self.unfit_bits(index, args.len(), returns));
        }
        let func = export.func;
        if args.len() > INLINE_SLOTS {
            return self.guarded(|p| {
                let mut slots: Vec<ValRaw> = args.iter().map(|&b| ValRaw::from_u64(b)).collect();
                func.call_raw(&mut p.store, &mut slots)?;
                Ok(returns.then(|| slots[0].u64()))
            });
        }
        // The common case, `guarded` spelled out with its slow paths out
        // of line: a scalar method should cost a typed call.
        if self.poisoned.is_some() {
            return Err(self.poisoned_error());
        }
        let data = self.store.data_mut();
        if data.panic.is_some() {
            data.panic = None;
        }
        let mut slots = [ValRaw::default(); INLINE_SLOTS];
        for (s, &a) in slots.iter_mut().zip(args.iter()) {
            *s = ValRaw::from_u64(a);
        }
        match func.call_raw(&mut self.store, &mut slots) {
            Ok(()) => Ok(returns.then(|| slots[0].u64())),
            Err(e) => Err(self.failed(e)),
        }
    }

    /// The error for a call with bits that do not fit the export.
    #[cold]
    fn unfit_bits(&self, index: usize, args: usize, returns: bool) -> Error {
        let export = &self.exports[index];
        Error::Schema(format!(
            "plugin `{}`: the export of `{}.{}` takes {} arguments and {} a result, \
             not {args} and {}",
            self.name(),
            export.interface,
            export.method,
            export.params.len(),
            if export.result.is_some() { "returns" } else { "does not return" },
            if returns { "one" } else { "none" }
        ))
    }
}
