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

/// The part of a store that does not depend on `T`; builtins and the
/// trap path work on this.
pub(crate) struct StoreOpaque {
    /// Read and written by generated code; the box keeps its address fixed.
    pub vm: Box<VMStoreContext>,
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
}

pub(crate) struct StoreInner<T> {
    pub opaque: StoreOpaque,
    pub host_funcs: Vec<HostFunc<T>>,
    pub data: T,
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
                vm: Box::default(),
                id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                engine: engine.clone(),
                instances: Vec::new(),
                memories: Vec::new(),
                tables: Vec::new(),
                host_globals: Vec::new(),
                pending_error: None,
                limits: StoreLimits::default(),
                outer: std::ptr::null_mut(),
            },
            host_funcs: Vec::new(),
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
