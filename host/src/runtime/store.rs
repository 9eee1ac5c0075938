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
use super::trap::TrapCode;
use crate::contract::vmctx::{VMGlobalDefinition, VMStoreContext};
use crate::engine::Engine;
use crate::types::{MemoryType, TableType, WASM_PAGE_SIZE};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// Resource limits of a store: what one plugin (or one linked set of
/// modules) may make the host allocate.
///
/// Every limit is checked before anything is committed: an instantiation
/// that would exceed one fails with [`Error::Limit`](crate::Error::Limit)
/// and leaves the store as it was; a `memory.grow` or `table.grow` past one
/// returns -1 to the plugin (and a trap that follows names the limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreLimits {
    /// Maximum bytes of each linear memory.
    pub max_memory_bytes: u64,
    /// Maximum elements of each table.
    pub max_table_elements: u64,
    /// Maximum bytes of all linear memories of the store together; `None`:
    /// the same as `max_memory_bytes`, so that a per-plugin memory limit
    /// holds however many memories the plugin declares.
    pub max_total_memory_bytes: Option<u64>,
    /// Maximum elements of all tables of the store together; `None`: the
    /// same as `max_table_elements`.
    pub max_total_table_elements: Option<u64>,
    /// Maximum instances in the store (failed instantiations that left
    /// functions reachable through shared tables count too).
    pub max_instances: u64,
    /// Maximum linear memories in the store (host-created ones included).
    pub max_memories: u64,
    /// Maximum tables in the store (host-created ones included).
    pub max_tables: u64,
}

impl Default for StoreLimits {
    fn default() -> StoreLimits {
        StoreLimits {
            max_memory_bytes: 1 << 32,
            max_table_elements: 10_000_000,
            max_total_memory_bytes: None,
            max_total_table_elements: None,
            max_instances: 10_000,
            max_memories: 10_000,
            max_tables: 10_000,
        }
    }
}

impl StoreLimits {
    /// The limit on all memories together.
    pub fn total_memory_bytes(&self) -> u64 {
        self.max_total_memory_bytes.unwrap_or(self.max_memory_bytes)
    }

    /// The limit on all tables together.
    pub fn total_table_elements(&self) -> u64 {
        self.max_total_table_elements.unwrap_or(self.max_table_elements)
    }
}

/// What a store holds now, against [`StoreLimits`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Committed bytes of all memories.
    pub memory_bytes: u64,
    /// Elements of all tables.
    pub table_elements: u64,
}

/// The lengths of a store's entity lists at one moment, to undo a failed
/// instantiation back to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mark {
    instances: usize,
    memories: usize,
    tables: usize,
}

/// The `VMStoreContext` of a store. Generated code and the owning store
/// use all of it; interrupt handles on other threads touch only its atomic
/// `interrupt` flag (through [`SharedVm::interrupt_flag`]).
pub(crate) struct SharedVm {
    context: std::cell::UnsafeCell<VMStoreContext>,
    /// When the running call's timeout expires (the deadline thread's
    /// clock, in nanoseconds), or 0 when no deadline is armed.
    deadline: std::sync::atomic::AtomicU64,
    /// Whether the deadline thread watches this store.
    watched: std::sync::atomic::AtomicBool,
}

// SAFETY: only the atomic `interrupt` field is accessed from threads other
// than the one using the store, and only through a reference to that field.
unsafe impl Sync for SharedVm {}
// SAFETY: as above; the context itself is plain data.
unsafe impl Send for SharedVm {}

impl SharedVm {
    /// The context, for generated code and the owning store.
    pub fn ptr(&self) -> *mut VMStoreContext {
        self.context.get()
    }

    /// The armed deadline of the running call (see `runtime::timer`).
    pub fn deadline(&self) -> &std::sync::atomic::AtomicU64 {
        &self.deadline
    }

    /// Whether this store has joined the deadline thread's watch list;
    /// sets it, so only the first caller gets `false`.
    pub fn watch(&self) -> bool {
        self.watched.swap(true, Ordering::Relaxed)
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
    // Boxed so that each one keeps its address while the vectors grow:
    // generated code and vmctx fields point at them.
    #[allow(clippy::vec_box)]
    pub instances: Vec<Box<InstanceData>>,
    #[allow(clippy::vec_box)]
    pub memories: Vec<Box<LinearMemory>>,
    #[allow(clippy::vec_box)]
    pub tables: Vec<Box<Table>>,
    #[allow(clippy::vec_box)]
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
    /// Memory and table use, against `limits`.
    pub usage: Usage,
    /// Signature registrations of the store's host functions, given back
    /// to the engine when the store is dropped.
    pub host_type_ids: Vec<u32>,
    /// The last `memory.grow`/`table.grow` a limit refused during the
    /// current call, to explain a trap that follows it.
    pub refused_grow: Option<String>,
}

impl Drop for StoreOpaque {
    fn drop(&mut self) {
        // Nothing runs in the store any more: its memories' reservations
        // can serve the engine's next instances.
        if let Some(pool) = self.engine.memory_pool() {
            for m in self.memories.drain(..) {
                (*m).release(pool);
            }
        }
        for &id in &self.host_type_ids {
            self.engine.release_type(id);
        }
    }
}

impl StoreOpaque {
    /// The fuel ran out at a check: asks the store's handler for more.
    /// `Ok` to continue (fuel was added), else the trap to raise.
    pub(crate) fn refuel(&mut self) -> Result<(), TrapCode> {
        let Some(handler) = self.fuel_handler else { return Err(TrapCode::OutOfFuel) };
        let outer = self.outer;
        // SAFETY: the shim was installed for the store's data type; panics
        // are caught so no unwinding crosses generated frames.
        let action =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { handler(outer) }));
        match action {
            Ok(OutOfFuel::AddFuel(more)) => {
                let vm = self.vm();
                vm.fuel_consumed =
                    vm.fuel_consumed.saturating_sub(more.min(i64::MAX as u64) as i64);
                if vm.fuel_consumed < 0 { Ok(()) } else { Err(TrapCode::OutOfFuel) }
            }
            Ok(OutOfFuel::Trap) => Err(TrapCode::OutOfFuel),
            Err(_) => {
                self.pending_error = Some("out-of-fuel handler panicked".into());
                Err(TrapCode::HostError)
            }
        }
    }
}

impl StoreOpaque {
    /// The context generated code reads and writes.
    pub fn vm(&mut self) -> &mut VMStoreContext {
        // SAFETY: only the owning thread, holding `&mut StoreOpaque`,
        // creates references to the whole context.
        unsafe { &mut *self.vm.ptr() }
    }
}

/// What the store calls when the plugin runs out of fuel.
pub(crate) type FuelHandler<T> = Box<dyn FnMut(&mut T) -> OutOfFuel + Send>;

pub(crate) struct StoreInner<T> {
    pub opaque: StoreOpaque,
    pub host_funcs: Vec<HostFunc<T>>,
    pub fuel_handler: Option<FuelHandler<T>>,
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
                vm: std::sync::Arc::new(SharedVm {
                    context: Default::default(),
                    deadline: Default::default(),
                    watched: Default::default(),
                }),
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
                usage: Usage::default(),
                refused_grow: None,
                host_type_ids: Vec::new(),
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

/// Bytes in `pages` wasm pages, saturating (page counts come from
/// validated types or plugin-supplied deltas).
fn page_bytes(pages: u64) -> u64 {
    pages.saturating_mul(WASM_PAGE_SIZE)
}

impl StoreOpaque {
    /// The current lengths of the entity lists.
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            instances: self.instances.len(),
            memories: self.memories.len(),
            tables: self.tables.len(),
        }
    }

    /// Drops everything created since `mark` (a failed instantiation that
    /// left nothing reachable), giving its memory and table use back.
    ///
    /// The failed instance's vmctx may already be freed, and its memories'
    /// and tables' definitions with it: nothing here reads through them.
    pub(crate) fn undo_to(&mut self, mark: Mark) {
        let pool = self.engine.memory_pool();
        for m in self.memories.drain(mark.memories..) {
            self.usage.memory_bytes -= m.committed() as u64;
            if let Some(pool) = pool {
                (*m).release(pool);
            }
        }
        for t in self.tables.drain(mark.tables..) {
            self.usage.table_elements -= t.len();
        }
        self.instances.truncate(mark.instances);
    }

    /// Checks, before anything is created, that `instances` more
    /// instances, memories of `memories` initial bytes and tables of
    /// `tables` initial elements fit the limits.
    pub(crate) fn check_room(
        &self,
        instances: u64,
        memories: &[u64],
        tables: &[u64],
    ) -> crate::Result<()> {
        let l = &self.limits;
        let count = |what: &str, field: &str, have: usize, more: u64, max: u64| {
            if (have as u64).saturating_add(more) > max {
                Err(crate::Error::Limit(format!(
                    "{more} more {what} would exceed the store's limit `{field}` of {max} \
                     ({have} in use)"
                )))
            } else {
                Ok(())
            }
        };
        count("instance(s)", "max_instances", self.instances.len(), instances, l.max_instances)?;
        count(
            "memory(ies)",
            "max_memories",
            self.memories.len(),
            memories.len() as u64,
            l.max_memories,
        )?;
        count("table(s)", "max_tables", self.tables.len(), tables.len() as u64, l.max_tables)?;
        let bytes = memories.iter().fold(0u64, |a, &b| a.saturating_add(b));
        let total = l.total_memory_bytes();
        if self.usage.memory_bytes.saturating_add(bytes) > total {
            return Err(crate::Error::Limit(format!(
                "memories of {bytes} bytes would exceed the store's limit on all memories \
                 together (`max_total_memory_bytes`) of {total} bytes ({} in use)",
                self.usage.memory_bytes
            )));
        }
        let elements = tables.iter().fold(0u64, |a, &b| a.saturating_add(b));
        let total = l.total_table_elements();
        if self.usage.table_elements.saturating_add(elements) > total {
            return Err(crate::Error::Limit(format!(
                "tables of {elements} elements would exceed the store's limit on all tables \
                 together (`max_total_table_elements`) of {total} ({} in use)",
                self.usage.table_elements
            )));
        }
        Ok(())
    }

    /// Creates a memory of type `ty` within the limits, preferably in a
    /// pooled reservation that has image `image` mapped; returns its index.
    pub(crate) fn new_memory(
        &mut self,
        ty: MemoryType,
        image: Option<u64>,
    ) -> crate::Result<usize> {
        self.check_room(0, &[page_bytes(ty.limits.min)], &[])?;
        // The reservation covers all the memory may ever grow to, so it is
        // bounded by the limit on all memories too.
        let limit = self.limits.max_memory_bytes.min(self.limits.total_memory_bytes());
        let pool = self.engine.memory_pool();
        let mem = LinearMemory::new(ty, limit, pool, image).map_err(crate::Error::Limit)?;
        self.usage.memory_bytes += page_bytes(ty.limits.min);
        self.memories.push(Box::new(mem));
        Ok(self.memories.len() - 1)
    }

    /// Creates a table of type `ty` filled with `init` within the limits;
    /// returns its index.
    pub(crate) fn new_table(&mut self, ty: TableType, init: u64) -> crate::Result<usize> {
        self.check_room(0, &[], &[ty.limits.min])?;
        let table =
            Table::new(ty, init, self.limits.max_table_elements).map_err(crate::Error::Limit)?;
        self.usage.table_elements += table.len();
        self.tables.push(Box::new(table));
        Ok(self.tables.len() - 1)
    }

    /// Grows memory `index` by `delta` pages within its maximum and the
    /// limits; returns the old size in pages. A refusal is remembered to
    /// explain a trap that may follow.
    pub(crate) fn grow_memory(&mut self, index: usize, delta: u64) -> Option<u64> {
        let bytes = page_bytes(delta);
        let total = self.limits.total_memory_bytes();
        let mem = &mut self.memories[index];
        let (old, max) = (mem.pages(), mem.max_pages());
        let refusal = if old.saturating_add(delta) > max {
            let declared = mem.ty.limits.max.unwrap_or(crate::types::MAX_WASM_PAGES);
            if max < declared {
                format!(
                    "the memory would exceed the store's limit `max_memory_bytes` of {} bytes",
                    self.limits.max_memory_bytes
                )
            } else {
                format!("the memory's maximum is {max} pages")
            }
        } else if self.usage.memory_bytes.saturating_add(bytes) > total {
            format!(
                "all memories together would exceed the store's limit \
                 `max_total_memory_bytes` of {total} bytes ({} in use)",
                self.usage.memory_bytes
            )
        } else if let Some(old) = mem.grow(delta) {
            self.usage.memory_bytes += bytes;
            return Some(old);
        } else {
            "the operating system refused to commit the memory".to_string()
        };
        self.refused_grow = Some(format!(
            "memory.grow by {delta} pages ({bytes} bytes) from {old} pages was refused: {refusal}"
        ));
        None
    }

    /// Grows table `index` by `delta` elements set to `init` within its
    /// maximum and the limits; returns the old size.
    pub(crate) fn grow_table(&mut self, index: usize, delta: u64, init: u64) -> Option<u64> {
        let total = self.limits.total_table_elements();
        let limit = self.limits.max_table_elements;
        let table = &mut self.tables[index];
        let (old, max) = (table.len(), table.max());
        let refusal = if old.saturating_add(delta) > max {
            if table.ty.limits.max.is_none_or(|m| m > limit) {
                format!("the table would exceed the store's limit `max_table_elements` of {limit}")
            } else {
                format!("the table's maximum is {max} elements")
            }
        } else if self.usage.table_elements.saturating_add(delta) > total {
            format!(
                "all tables together would exceed the store's limit \
                 `max_total_table_elements` of {total} ({} in use)",
                self.usage.table_elements
            )
        } else if let Some(old) = table.grow(delta, init) {
            self.usage.table_elements += delta;
            return Some(old);
        } else {
            "the host could not allocate the elements".to_string()
        };
        self.refused_grow =
            Some(format!("table.grow by {delta} elements from {old} was refused: {refusal}"));
        None
    }

    /// Checks that a handle belongs to this store.
    #[inline]
    pub fn check(&self, id: u64) -> crate::Result<()> {
        if id == self.id { Ok(()) } else { Err(foreign_object()) }
    }
}

#[cold]
fn foreign_object() -> crate::Error {
    crate::Error::Usage("object used with a store it does not belong to".into())
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
