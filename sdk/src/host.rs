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

impl<T: Transport + ?Sized> Transport for &mut T {
    type Error = T::Error;
    fn check(&mut self, interface: &'static InterfaceDesc) -> Result<(), Self::Error> {
        (**self).check(interface)
    }
    fn call(
        &mut self,
        interface: &str,
        method: &str,
        input: &[u8],
    ) -> Result<Vec<u8>, Self::Error> {
        (**self).call(interface, method, input)
    }
    fn call_scalar(
        &mut self,
        interface: &str,
        method: &str,
        args: &[Scalar],
        returns: bool,
    ) -> Result<Option<Scalar>, Self::Error> {
        (**self).call_scalar(interface, method, args, returns)
    }
    fn call_method(
        &mut self,
        interface: &'static InterfaceDesc,
        method: usize,
        input: &[u8],
    ) -> Result<Vec<u8>, Self::Error> {
        (**self).call_method(interface, method, input)
    }
    fn call_scalar_method(
        &mut self,
        interface: &'static InterfaceDesc,
        method: usize,
        args: &[Scalar],
        returns: bool,
    ) -> Result<Option<Scalar>, Self::Error> {
        (**self).call_scalar_method(interface, method, args, returns)
    }
}

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
