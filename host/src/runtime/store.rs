//! `Store`: everything instances of one plugin (or linked set of modules)
//! own together — memories, tables, globals, host functions, the call
//! state generated code reads through `VMStoreContext`, and user data `T`.
//!
//! A store is `Send` but used by one thread at a time (`&mut Store`).
//! Every entity lives until the store is dropped, so the raw pointers
//! between vmctxs, memories and tables of one store never dangle.

use super::func::HostFunc;
use super::instance::InstanceData;
use super::memory::LinearMemory;
use super::table::Table;
use crate::contract::vmctx::{VMGlobalDefinition, VMStoreContext};
use crate::engine::Engine;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// Resource limits of a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreLimits {
    /// Maximum bytes of each linear memory.
    pub max_memory_bytes: u64,
    /// Maximum elements of each table.
    pub max_table_elements: u64,
}

impl Default for StoreLimits {
    fn default() -> StoreLimits {
        StoreLimits { max_memory_bytes: 1 << 32, max_table_elements: 10_000_000 }
    }
}

/// The `VMStoreContext` of a store. Generated code and the owning store
/// use all of it; interrupt handles on other threads touch only its atomic
/// `interrupt` flag (through [`SharedVm::interrupt_flag`]).
pub(crate) struct SharedVm(std::cell::UnsafeCell<VMStoreContext>);

// SAFETY: only the atomic `interrupt` field is accessed from threads other
// than the one using the store, and only through a reference to that field.
unsafe impl Sync for SharedVm {}
// SAFETY: as above; the context itself is plain data.
unsafe impl Send for SharedVm {}

impl SharedVm {
    /// The context, for generated code and the owning store.
    pub fn ptr(&self) -> *mut VMStoreContext {
        self.0.get()
    }

    /// The interrupt flag, usable from any thread.
    pub fn interrupt_flag(&self) -> &std::sync::atomic::AtomicU32 {
        // SAFETY: a shared reference to the atomic field alone; no other
        // field is referenced.
        unsafe { &*std::ptr::addr_of!((*self.ptr()).interrupt) }
    }
}

/// What to do when a store runs out of fuel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutOfFuel {
    /// Add this much fuel and continue the call.
    AddFuel(u64),
    /// Stop the call with an `OutOfFuel` trap.
    Trap,
}

/// Calls a store's out-of-fuel handler (monomorphised for its data type).
pub(crate) type FuelHandlerShim = unsafe fn(outer: *mut u8) -> OutOfFuel;

/// Stops the running call of a store from any thread; it traps with
/// `Interrupted` at its next function entry or loop iteration.
#[derive(Clone)]
pub struct InterruptHandle {
    vm: std::sync::Arc<SharedVm>,
}

impl InterruptHandle {
    /// Interrupts the call in progress, if any. A call that starts later
    /// is not affected.
    pub fn interrupt(&self) {
        self.vm.interrupt_flag().store(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for InterruptHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InterruptHandle")
    }
}

/// The part of a store that does not depend on `T`; builtins and the
/// trap path work on this.
pub(crate) struct StoreOpaque {
    /// Read and written by generated code; shared with interrupt handles.
    pub vm: std::sync::Arc<SharedVm>,
    pub id: u64,
    pub engine: Engine,
    pub instances: Vec<Box<InstanceData>>,
    pub memories: Vec<Box<LinearMemory>>,
    pub tables: Vec<Box<Table>>,
    pub host_globals: Vec<Box<VMGlobalDefinition>>,
    /// Error of a host function that trapped, until the trap is reported.
    pub pending_error: Option<Box<dyn std::error::Error + Send + Sync>>,
    pub limits: StoreLimits,
    /// Type-erased `*mut StoreInner<T>`, for host-call shims.
    pub outer: *mut u8,
    /// Whether the engine meters fuel.
    pub fuel_enabled: bool,
    /// The out-of-fuel handler, if one is installed.
    pub fuel_handler: Option<FuelHandlerShim>,
    /// Deadline of every outermost call, if set.
    pub timeout: Option<std::time::Duration>,
}

impl StoreOpaque {
    /// The context generated code reads and writes.
    pub fn vm(&mut self) -> &mut VMStoreContext {
        // SAFETY: only the owning thread, holding `&mut StoreOpaque`,
        // creates references to the whole context.
        unsafe { &mut *self.vm.ptr() }
    }
}

pub(crate) struct StoreInner<T> {
    pub opaque: StoreOpaque,
    pub host_funcs: Vec<HostFunc<T>>,
    pub fuel_handler: Option<Box<dyn FnMut(&mut T) -> OutOfFuel + Send>>,
    pub data: T,
}

unsafe fn fuel_handler_shim<T>(outer: *mut u8) -> OutOfFuel {
    // SAFETY: `outer` is the StoreInner<T> this shim was installed for.
    let inner = unsafe { &mut *(outer as *mut StoreInner<T>) };
    match inner.fuel_handler.as_mut() {
        Some(h) => h(&mut inner.data),
        None => OutOfFuel::Trap,
    }
}

/// Owns instances and their memories, tables and globals, plus host data `T`.
pub struct Store<T> {
    pub(crate) inner: Box<StoreInner<T>>,
}

// SAFETY: the raw pointers inside point into memory owned by this store;
// moving the store to another thread moves all of it. Host functions are
// `Send + Sync` and `T: Send` is required.
unsafe impl<T: Send> Send for Store<T> {}

impl<T> Store<T> {
    /// An empty store for modules of `engine`, with host data `data`.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        let mut inner = Box::new(StoreInner {
            opaque: StoreOpaque {
                vm: std::sync::Arc::new(SharedVm(Default::default())),
                id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                engine: engine.clone(),
                instances: Vec::new(),
                memories: Vec::new(),
                tables: Vec::new(),
                host_globals: Vec::new(),
                pending_error: None,
                limits: StoreLimits::default(),
                outer: std::ptr::null_mut(),
                fuel_enabled: engine.config().consume_fuel,
                fuel_handler: None,
                timeout: None,
            },
            host_funcs: Vec::new(),
            fuel_handler: None,
            data,
        });
        inner.opaque.outer = &mut *inner as *mut StoreInner<T> as *mut u8;
        Store { inner }
    }

    /// The host data.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    /// Consumes the store, returning the host data.
    pub fn into_data(self) -> T {
        self.inner.data
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.opaque.engine
    }

    /// Sets resource limits for memories and tables created from now on.
    pub fn set_limits(&mut self, limits: StoreLimits) {
        self.inner.opaque.limits = limits;
    }

    /// Current limits.
    pub fn limits(&self) -> StoreLimits {
        self.inner.opaque.limits
    }

    fn require_fuel(&self) -> crate::Result<()> {
        if self.inner.opaque.fuel_enabled {
            Ok(())
        } else {
            Err(crate::Error::Usage(
                "fuel is not enabled: build the engine with `Config::consume_fuel(true)`".into(),
            ))
        }
    }

    /// Sets the fuel remaining for calls into this store.
    pub fn set_fuel(&mut self, fuel: u64) -> crate::Result<()> {
        self.require_fuel()?;
        self.inner.opaque.vm().fuel_consumed = -(fuel.min(i64::MAX as u64) as i64);
        Ok(())
    }

    /// Adds fuel to what remains.
    pub fn add_fuel(&mut self, fuel: u64) -> crate::Result<()> {
        let remaining = self.get_fuel()?;
        self.set_fuel(remaining.saturating_add(fuel))
    }

    /// The fuel remaining (0 once exhausted).
    ///
    /// After a trap, the fuel of every operator up to the last call,
    /// return, branch or loop iteration the trapping call completed is
    /// charged; the few operators between that point and the trap may not
    /// be.
    pub fn get_fuel(&self) -> crate::Result<u64> {
        self.require_fuel()?;
        // SAFETY: read by the owning thread; no wasm runs during `&self`.
        let consumed = unsafe { (*self.inner.opaque.vm.ptr()).fuel_consumed };
        Ok(if consumed >= 0 { 0 } else { consumed.unsigned_abs() })
    }

    /// Installs a handler called when a call runs out of fuel; it may add
    /// fuel and continue, or stop the call with an `OutOfFuel` trap.
    pub fn on_out_of_fuel(&mut self, handler: impl FnMut(&mut T) -> OutOfFuel + Send + 'static) {
        self.inner.fuel_handler = Some(Box::new(handler));
        self.inner.opaque.fuel_handler = Some(fuel_handler_shim::<T>);
    }

    /// A handle that stops the running call from another thread.
    pub fn interrupt_handle(&self) -> crate::Result<InterruptHandle> {
        if !self.engine().config().interruptible {
            return Err(crate::Error::Usage(
                "interruption is disabled: build the engine with `Config::interruptible(true)`"
                    .into(),
            ));
        }
        Ok(InterruptHandle { vm: self.inner.opaque.vm.clone() })
    }

    /// Limits every call from the host into this store to `timeout`; an
    /// overrunning call traps with `Interrupted`. `None` removes the limit.
    pub fn set_timeout(&mut self, timeout: Option<std::time::Duration>) -> crate::Result<()> {
        if timeout.is_some() {
            self.interrupt_handle()?;
        }
        self.inner.opaque.timeout = timeout;
        Ok(())
    }
}

impl StoreOpaque {
    /// Checks that a handle belongs to this store.
    pub fn check(&self, id: u64) -> crate::Result<()> {
        if id == self.id {
            Ok(())
        } else {
            Err(crate::Error::Usage("object used with a store it does not belong to".into()))
        }
    }
}

/// Anything that gives access to a store (a `Store` or a `Caller`).
pub trait AsStore {
    /// The host data type.
    type Data;
    #[doc(hidden)]
    fn inner(&self) -> &StoreInnerHandle<Self::Data>;
    #[doc(hidden)]
    fn inner_mut(&mut self) -> &mut StoreInnerHandle<Self::Data>;
}

/// Opaque handle type used by [`AsStore`].
#[doc(hidden)]
#[repr(transparent)]
pub struct StoreInnerHandle<T>(pub(crate) StoreInner<T>);

impl<T> AsStore for Store<T> {
    type Data = T;
    fn inner(&self) -> &StoreInnerHandle<T> {
        // SAFETY: repr(transparent) over StoreInner<T>.
        unsafe { &*(&*self.inner as *const StoreInner<T> as *const StoreInnerHandle<T>) }
    }
    fn inner_mut(&mut self) -> &mut StoreInnerHandle<T> {
        // SAFETY: repr(transparent) over StoreInner<T>.
        unsafe { &mut *(&mut *self.inner as *mut StoreInner<T> as *mut StoreInnerHandle<T>) }
    }
}

impl<T> StoreInnerHandle<T> {
    pub(crate) fn opaque(&self) -> &StoreOpaque {
        &self.0.opaque
    }
    pub(crate) fn opaque_mut(&mut self) -> &mut StoreOpaque {
        &mut self.0.opaque
    }
}
