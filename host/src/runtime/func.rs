//! Functions: handles to wasm and host functions, typed calls, and the
//! machinery that lets wasm call host closures.

use super::call::invoke;
use super::instance::Instance;
use super::store::{AsStore, Store, StoreInner, StoreInnerHandle, StoreOpaque};
use super::values::{Val, ValRaw, WasmParams, WasmResults};
use crate::contract::vmctx::VMFuncRef;
use crate::error::{Error, Result};
use crate::types::{FuncType, ValType};
use std::marker::PhantomData;
use std::sync::Arc;

/// Calls host function `index` of the store at `store` with arguments in
/// `values`, writing results back; monomorphised per host data type.
pub(crate) type HostShim =
    unsafe fn(store: *mut u8, index: u32, values: *mut ValRaw, caller: usize) -> Result<()>;

/// The closure type behind host functions.
pub type HostFn<T> = dyn Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync;

pub(crate) struct HostFunc<T> {
    pub ty: FuncType,
    pub func: Arc<HostFn<T>>,
}

#[derive(Clone, Copy, Debug)]
enum FuncKind {
    /// A `*const VMFuncRef` (as an integer so the handle is `Send`).
    Wasm(usize),
    /// A host function of the store.
    Host { index: u32, type_id: u32, shim: HostShim },
}

impl PartialEq for FuncKind {
    fn eq(&self, other: &FuncKind) -> bool {
        match (self, other) {
            (FuncKind::Wasm(a), FuncKind::Wasm(b)) => a == b,
            // Within one store a host function is identified by its index.
            (FuncKind::Host { index: a, .. }, FuncKind::Host { index: b, .. }) => a == b,
            _ => false,
        }
    }
}

/// A function in a store: exported by an instance or defined by the host.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Func {
    store_id: u64,
    kind: FuncKind,
}

/// What a host function receives: the store's data and the calling
/// instance's exports (for example its memory).
pub struct Caller<'a, T> {
    inner: &'a mut StoreInnerHandle<T>,
    instance: Option<usize>,
}

impl<T> Caller<'_, T> {
    /// The store's host data.
    pub fn data(&self) -> &T {
        &self.inner.0.data
    }

    /// The store's host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.0.data
    }

    /// An export of the calling instance (none when called from the host).
    pub fn get_export(&self, name: &str) -> Option<super::externs::Extern> {
        let index = self.instance?;
        let inst = Instance { store_id: self.inner.0.opaque.id, index };
        inst.get_export(self, name)
    }

    /// Whether the call in progress should stop: the store was
    /// interrupted or its timeout passed. Host functions that wait (a
    /// sleep, a poll) check this and return a [`TrapCode::Interrupted`]
    /// trap.
    ///
    /// [`TrapCode::Interrupted`]: crate::TrapCode::Interrupted
    pub fn interrupted(&self) -> bool {
        let flag = self.inner.0.opaque.vm.interrupt_flag();
        flag.load(std::sync::atomic::Ordering::SeqCst) != 0
    }

    /// The calling instance's exported memory `name`.
    pub fn get_memory(&self, name: &str) -> Option<super::externs::Memory> {
        match self.get_export(name)? {
            super::externs::Extern::Memory(m) => Some(m),
            _ => None,
        }
    }
}

impl<T> AsStore for Caller<'_, T> {
    type Data = T;
    fn inner(&self) -> &StoreInnerHandle<T> {
        self.inner
    }
    fn inner_mut(&mut self) -> &mut StoreInnerHandle<T> {
        self.inner
    }
}

/// Host functions with static types: implemented for closures
/// `Fn(Caller<T>, P) -> R` where `P` is `()`, a value or a tuple and `R` is
/// a result list or `Result` of one.
pub trait HostResult<R: WasmResults> {
    /// Converts into `Result`.
    fn into_result(self) -> Result<R>;
}

impl<R: WasmResults> HostResult<R> for R {
    fn into_result(self) -> Result<R> {
        Ok(self)
    }
}

impl<R: WasmResults> HostResult<R> for Result<R> {
    fn into_result(self) -> Result<R> {
        self
    }
}

unsafe fn host_shim<T>(
    store: *mut u8,
    index: u32,
    values: *mut ValRaw,
    caller: usize,
) -> Result<()> {
    // SAFETY: `store` is the `StoreInner<T>` the shim was created for; the
    // wasm call in progress does not touch Rust-visible store state.
    let inner = unsafe { &mut *(store as *mut StoreInner<T>) };
    let (ty, func) = {
        let hf = &inner.host_funcs[index as usize];
        (hf.ty.clone(), hf.func.clone())
    };
    let store_id = inner.opaque.id;
    let n = ty.params.len().max(ty.results.len());
    // SAFETY: the adapter passes at least max(params, results) slots.
    let slots = unsafe { std::slice::from_raw_parts_mut(values, n) };
    let params: Vec<Val> =
        ty.params.iter().zip(slots.iter()).map(|(&t, &r)| Val::from_raw(r, t, store_id)).collect();
    let mut results: Vec<Val> = ty.results.iter().map(|&t| Val::default_for(t)).collect();
    // SAFETY: repr(transparent).
    let handle = unsafe { &mut *(inner as *mut StoreInner<T> as *mut StoreInnerHandle<T>) };
    let caller = Caller { inner: handle, instance: (caller != usize::MAX).then_some(caller) };
    func(caller, &params, &mut results)?;
    for ((slot, v), &t) in slots.iter_mut().zip(&results).zip(&ty.results) {
        if v.ty() != t {
            return Err(Error::Usage(format!(
                "host function returned {} where {t} was declared",
                v.ty()
            )));
        }
        v.check_store(store_id, "the host function's result")?;
        *slot = v.to_raw();
    }
    Ok(())
}

impl Func {
    /// A host function with a dynamic signature.
    pub fn new<T: 'static>(
        store: &mut Store<T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let type_id = store.engine().register_type(&ty);
        let inner = &mut store.inner;
        inner.opaque.host_type_ids.push(type_id);
        inner.host_funcs.push(HostFunc { ty, func: Arc::new(func) });
        let index = inner.host_funcs.len() as u32 - 1;
        Func {
            store_id: inner.opaque.id,
            kind: FuncKind::Host { index, type_id, shim: host_shim::<T> },
        }
    }

    /// A host function with a static signature, e.g.
    /// `Func::wrap(&mut store, |_caller, (a, b): (i32, i32)| a + b)`.
    pub fn wrap<T: 'static, P, R, Out>(
        store: &mut Store<T>,
        func: impl Fn(Caller<'_, T>, P) -> Out + Send + Sync + 'static,
    ) -> Func
    where
        P: WasmParams + 'static,
        R: WasmResults + 'static,
        Out: HostResult<R>,
    {
        let ty = FuncType::new(P::types(), R::types());
        let nparams = ty.params.len();
        Func::new(store, ty, move |caller, params, results| {
            let raw: Vec<ValRaw> = params.iter().map(Val::to_raw).collect();
            debug_assert_eq!(raw.len(), nparams);
            let p = P::read(&raw);
            let r = func(caller, p).into_result()?;
            let types = R::types();
            let mut slots = vec![ValRaw::default(); types.len()];
            r.write(&mut slots);
            for ((out, raw), t) in results.iter_mut().zip(slots).zip(types) {
                *out = Val::from_raw(raw, t, 0);
            }
            Ok(())
        })
    }

    pub(crate) fn from_funcref(store_id: u64, funcref: *mut VMFuncRef) -> Func {
        Func { store_id, kind: FuncKind::Wasm(funcref as usize) }
    }

    pub(crate) fn from_raw_funcref(store_id: u64, raw: u64) -> Option<Func> {
        (raw != 0).then_some(Func { store_id, kind: FuncKind::Wasm(raw as usize) })
    }

    /// The pointer stored in tables and passed as a funcref (0 for host
    /// functions that no instance imported).
    pub(crate) fn raw_funcref(&self) -> usize {
        match self.kind {
            FuncKind::Wasm(p) => p,
            FuncKind::Host { .. } => 0,
        }
    }

    pub(crate) fn store_id(&self) -> u64 {
        self.store_id
    }

    pub(crate) fn wasm_funcref(&self) -> Option<*const VMFuncRef> {
        match self.kind {
            FuncKind::Wasm(p) => Some(p as *const VMFuncRef),
            FuncKind::Host { .. } => None,
        }
    }

    pub(crate) fn host_parts(&self) -> Option<(HostShim, u32)> {
        match self.kind {
            FuncKind::Host { index, shim, .. } => Some((shim, index)),
            FuncKind::Wasm(_) => None,
        }
    }

    pub(crate) fn type_id(&self, _store: &StoreOpaque) -> u32 {
        match self.kind {
            // SAFETY: wasm funcrefs point into live vmctxs of the store.
            FuncKind::Wasm(p) => unsafe { (*(p as *const VMFuncRef)).type_id },
            FuncKind::Host { type_id, .. } => type_id,
        }
    }

    /// The function's signature.
    pub fn ty(&self, store: &impl AsStore) -> FuncType {
        let opaque = store.inner().opaque();
        opaque.engine.type_of(self.type_id(opaque))
    }

    /// Calls the function with dynamically typed arguments.
    pub fn call(
        &self,
        store: &mut impl AsStore,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let opaque = store.inner().opaque();
        opaque.check(self.store_id)?;
        let ty = self.ty(store);
        check_vals(&ty.params, params, "argument", self.store_id)?;
        if results.len() != ty.results.len() {
            return Err(Error::Usage(format!(
                "function returns {} values, room for {} given",
                ty.results.len(),
                results.len()
            )));
        }
        let mut slots = vec![ValRaw::default(); ty.params.len().max(ty.results.len()).max(1)];
        for (s, v) in slots.iter_mut().zip(params) {
            *s = v.to_raw();
        }
        self.call_raw(store, &mut slots)?;
        for ((r, s), &t) in results.iter_mut().zip(&slots).zip(&ty.results) {
            *r = Val::from_raw(*s, t, self.store_id);
        }
        Ok(())
    }

    /// Calls with arguments already in `slots`; results replace them.
    /// Always inlined: it is most of a call's cost outside wasm.
    #[inline(always)]
    pub(crate) fn call_raw(&self, store: &mut impl AsStore, slots: &mut [ValRaw]) -> Result<()> {
        match self.kind {
            FuncKind::Wasm(p) => {
                let opaque = store.inner_mut().opaque_mut() as *mut StoreOpaque;
                // SAFETY: the funcref is live, its signature was checked by
                // the caller and `slots` has room for params and results.
                unsafe { invoke(opaque, p as *const VMFuncRef, slots.as_mut_ptr()) }
                    .map_err(Error::Trap)
            }
            FuncKind::Host { index, shim, .. } => {
                let outer = store.inner_mut().opaque_mut().outer;
                // SAFETY: `outer` is the StoreInner<T> the shim was made for.
                unsafe { shim(outer, index, slots.as_mut_ptr(), usize::MAX) }
            }
        }
    }

    /// A statically typed view, checked against the signature.
    pub fn typed<P: WasmParams, R: WasmResults>(
        &self,
        store: &impl AsStore,
    ) -> Result<TypedFunc<P, R>> {
        store.inner().opaque().check(self.store_id)?;
        let ty = self.ty(store);
        let (p, r) = (P::types(), R::types());
        if ty.params != p || ty.results != r {
            return Err(Error::Usage(format!(
                "function has type {ty}, not {}",
                FuncType::new(p, r)
            )));
        }
        Ok(TypedFunc {
            func: *self,
            slots: ty.params.len().max(ty.results.len()).max(1),
            _marker: PhantomData,
        })
    }
}

fn check_vals(types: &[ValType], vals: &[Val], what: &str, store_id: u64) -> Result<()> {
    if types.len() != vals.len() {
        return Err(Error::Usage(format!("expected {} {what}s, got {}", types.len(), vals.len())));
    }
    for (i, (t, v)) in types.iter().zip(vals).enumerate() {
        if v.ty() != *t {
            return Err(Error::Usage(format!("{what} {i} should be {t}, got {}", v.ty())));
        }
        if let Val::FuncRef(Some(f)) = v
            && f.store_id != store_id {
                return Err(Error::Usage(format!("{what} {i} is a function of another store")));
            }
    }
    Ok(())
}

/// Most parameters or results a typed call passes in an array on the
/// stack (more take a heap allocation).
const INLINE_SLOTS: usize = 4;

/// A function with a static signature: `P` parameters, `R` results.
pub struct TypedFunc<P, R> {
    func: Func,
    slots: usize,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl<P: WasmParams, R: WasmResults> TypedFunc<P, R> {
    /// Calls the function.
    #[inline]
    pub fn call(&self, store: &mut impl AsStore, params: P) -> Result<R> {
        store.inner().opaque().check(self.func.store_id)?;
        if self.slots > INLINE_SLOTS {
            return self.call_with_many(store, params);
        }
        let mut slots = [ValRaw::default(); INLINE_SLOTS];
        params.write(&mut slots);
        self.func.call_raw(store, &mut slots)?;
        Ok(R::read(&slots))
    }

    /// [`TypedFunc::call`] for signatures with more values than fit on
    /// the stack.
    #[cold]
    #[inline(never)]
    fn call_with_many(&self, store: &mut impl AsStore, params: P) -> Result<R> {
        let mut slots = vec![ValRaw::default(); self.slots];
        params.write(&mut slots);
        self.func.call_raw(store, &mut slots)?;
        Ok(R::read(&slots))
    }

    /// The untyped function.
    pub fn func(&self) -> Func {
        self.func
    }
}
