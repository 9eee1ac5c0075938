//! What hosts implement so that interface crates need no dependency on
//! a particular host: a [`Transport`] carries calls into a plugin, a
//! [`Dispatch`] serves calls a plugin makes to the host.

use crate::schema::InterfaceDesc;
use crate::wire::{Scalar, WireError};
use alloc::vec::Vec;

/// Calls into a plugin (implemented by `scion::Plugin`).
pub trait Transport {
    /// The host's error type.
    type Error: From<WireError>;

    /// Checks that the plugin implements `interface` exactly as described.
    fn check(&mut self, interface: &'static InterfaceDesc) -> Result<(), Self::Error>;

    /// Calls a serialized method with postcard-encoded arguments; returns
    /// the postcard-encoded result.
    fn call(&mut self, interface: &str, method: &str, input: &[u8])
    -> Result<Vec<u8>, Self::Error>;

    /// Calls a scalar method; `returns` says whether it has a result.
    fn call_scalar(
        &mut self,
        interface: &str,
        method: &str,
        args: &[Scalar],
        returns: bool,
    ) -> Result<Option<Scalar>, Self::Error>;

    /// [`Transport::call`] of method number `method` (its position in
    /// `interface.methods`) of an interface. The generated clients call
    /// this; a transport that resolved the interface's methods in
    /// [`Transport::check`] finds the export without comparing names.
    fn call_method(
        &mut self,
        interface: &'static InterfaceDesc,
        method: usize,
        input: &[u8],
    ) -> Result<Vec<u8>, Self::Error> {
        let name = method_name(interface, method)?;
        self.call(interface.name, name, input)
    }

    /// [`Transport::call_scalar`] of method number `method` of an
    /// interface (see [`Transport::call_method`]).
    fn call_scalar_method(
        &mut self,
        interface: &'static InterfaceDesc,
        method: usize,
        args: &[Scalar],
        returns: bool,
    ) -> Result<Option<Scalar>, Self::Error> {
        let name = method_name(interface, method)?;
        self.call_scalar(interface.name, name, args, returns)
    }

    /// [`Transport::call_scalar_method`] with each argument given as the
    /// bits of its wasm value ([`ScalarValue::to_wasm_bits`]) and the result
    /// returned the same way. The generated clients call this: the
    /// method's declared parameter types say what the bits are, so a
    /// transport that checked the interface passes them on untouched.
    ///
    /// The default tags each argument with its declared type and calls
    /// [`Transport::call_scalar_method`].
    ///
    /// [`ScalarValue::to_wasm_bits`]: crate::wire::ScalarValue::to_wasm_bits
    fn call_scalar_bits(
        &mut self,
        interface: &'static InterfaceDesc,
        method: usize,
        args: &[u64],
        returns: bool,
    ) -> Result<Option<u64>, Self::Error> {
        call_tagged(self, interface, method, args, returns)
    }
}

/// [`Transport::call_scalar_bits`] through
/// [`Transport::call_scalar_method`]: each argument tagged with the type
/// the interface declares for it (the default, for transports that do
/// not pass bits on themselves).
pub fn call_tagged<T: Transport + ?Sized>(
    transport: &mut T,
    interface: &'static InterfaceDesc,
    method: usize,
    args: &[u64],
    returns: bool,
) -> Result<Option<u64>, T::Error> {
    let desc = match interface.methods.get(method) {
        Some(m) if m.params.len() == args.len() => m,
        _ => return Err(no_such_method(interface, method, args.len()).into()),
    };
    let mut tagged = Vec::with_capacity(args.len());
    for (p, &bits) in desc.params.iter().zip(args) {
        match Scalar::from_bits(&p.ty, bits) {
            Some(s) => tagged.push(s),
            None => return Err(no_such_method(interface, method, args.len()).into()),
        }
    }
    Ok(transport.call_scalar_method(interface, method, &tagged, returns)?.map(Scalar::to_bits))
}

/// The error for a scalar call that does not fit the interface's method.
#[cold]
fn no_such_method(interface: &InterfaceDesc, method: usize, args: usize) -> WireError {
    WireError(alloc::format!(
        "interface `{}` has no scalar method number {method} taking {args} arguments",
        interface.name
    ))
}

/// The name of method number `method` of `interface` (the position the
/// generated clients pass to [`Transport::call_method`]).
pub fn method_name(interface: &InterfaceDesc, method: usize) -> Result<&'static str, WireError> {
    match interface.methods.get(method) {
        Some(m) => Ok(m.name),
        None => Err(WireError(alloc::format!(
            "interface `{}` has no method number {method}",
            interface.name
        ))),
    }
}

/// Implements [`Transport`] for a type that dereferences to one, by
/// forwarding every method (used for `&mut T` here, and by hosts for
/// their lock guards).
#[doc(hidden)]
#[macro_export]
macro_rules! __forward_transport {
    (impl [$($generics:tt)*] for $ty:ty, error = $error:ty) => {
        impl<$($generics)*> $crate::host::Transport for $ty {
            type Error = $error;
            fn check(
                &mut self,
                interface: &'static $crate::schema::InterfaceDesc,
            ) -> ::core::result::Result<(), Self::Error> {
                (**self).check(interface)
            }
            fn call(
                &mut self,
                interface: &str,
                method: &str,
                input: &[u8],
            ) -> ::core::result::Result<$crate::__private::Vec<u8>, Self::Error> {
                (**self).call(interface, method, input)
            }
            fn call_scalar(
                &mut self,
                interface: &str,
                method: &str,
                args: &[$crate::wire::Scalar],
                returns: bool,
            ) -> ::core::result::Result<Option<$crate::wire::Scalar>, Self::Error> {
                (**self).call_scalar(interface, method, args, returns)
            }
            fn call_method(
                &mut self,
                interface: &'static $crate::schema::InterfaceDesc,
                method: usize,
                input: &[u8],
            ) -> ::core::result::Result<$crate::__private::Vec<u8>, Self::Error> {
                (**self).call_method(interface, method, input)
            }
            fn call_scalar_method(
                &mut self,
                interface: &'static $crate::schema::InterfaceDesc,
                method: usize,
                args: &[$crate::wire::Scalar],
                returns: bool,
            ) -> ::core::result::Result<Option<$crate::wire::Scalar>, Self::Error> {
                (**self).call_scalar_method(interface, method, args, returns)
            }
            #[inline(always)]
            fn call_scalar_bits(
                &mut self,
                interface: &'static $crate::schema::InterfaceDesc,
                method: usize,
                args: &[u64],
                returns: bool,
            ) -> ::core::result::Result<Option<u64>, Self::Error> {
                (**self).call_scalar_bits(interface, method, args, returns)
            }
        }
    };
}

__forward_transport!(impl [T: Transport + ?Sized] for &mut T, error = T::Error);

/// A host's implementation of an interface that plugins call, wrapped by
/// the `<Interface>Server` type that `#[interface]` generates.
pub trait Dispatch: Send {
    /// The interface served.
    fn interface(&self) -> &'static InterfaceDesc;
    /// Serves a serialized call.
    fn call(&mut self, method: &str, input: &[u8]) -> Result<Vec<u8>, WireError>;
    /// Serves a scalar call.
    fn call_scalar(&mut self, method: &str, args: &[Scalar]) -> Result<Option<Scalar>, WireError>;
}
