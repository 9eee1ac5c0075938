//! Instances: building a `VMContext`, linking imports, initialising
//! memories, tables and globals, running segments and the start function.
//!
//! **Sandbox-critical.** Every field generated code reads is written here,
//! at the offsets of `contract::vmctx`.

use super::builtins::BUILTIN_TABLE;
use super::externs::{Extern, Global, Memory, Table as TableHandle};
use super::func::Func;
use super::memory::LinearMemory;
use super::range::checked_range;
use super::startup_fuel::{
    Meter, StartupPlan, expr_cost, is_numeric_constant, table_init_precomputed,
};
use super::store::{AsStore, Store, StoreOpaque};
use super::table::Table;
use super::trap::{Trap, TrapCode};
use super::values::ValRaw;
use crate::contract::vmctx::*;
use crate::error::{Error, Result};
use crate::info::{ConstExpr, DataMode, ElemMode, ExternKind, ImportType};
use crate::module::Module;
use crate::types::Limits;

/// How wasm reaches a host function it imports.
pub(crate) struct HostImport {
    /// Monomorphised caller of the host function (see `func.rs`).
    pub shim: super::func::HostShim,
    /// Index of the host function in its store.
    pub index: u32,
}

/// The runtime side of one instance. Boxed and owned by its store; the
/// vmctx's `instance` field points here.
pub(crate) struct InstanceData {
    pub module: Module,
    /// Position in the store's instance list.
    pub index: usize,
    pub offsets: VMOffsets,
    /// The `VMContext`, 16-byte aligned.
    pub vmctx: Box<[u128]>,
    pub store: *mut StoreOpaque,
    /// Store index of each memory (imports first).
    pub memories: Vec<usize>,
    /// Store index of each table (imports first).
    pub tables: Vec<usize>,
    /// Storage of each global (imports first).
    pub globals: Vec<*mut VMGlobalDefinition>,
    /// Host functions behind imported functions (None: a wasm import).
    pub host_imports: Vec<Option<HostImport>>,
    /// Element segments still available to `table.init`.
    pub elems: Vec<Option<Vec<u64>>>,
    /// Data segments not yet dropped.
    pub datas_live: Vec<bool>,
}

/// A handle to an instance in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

impl InstanceData {
    pub fn vmctx_ptr(&self) -> *mut u8 {
        self.vmctx.as_ptr() as *mut u8
    }

    /// A pointer to a field of the vmctx at byte `offset`.
    pub fn field<F>(&self, offset: u32) -> *mut F {
        debug_assert!(offset as usize + std::mem::size_of::<F>() <= self.offsets.size() as usize);
        // SAFETY: within the vmctx allocation (checked above in debug builds;
        // offsets come from `VMOffsets`, which sizes the allocation).
        unsafe { self.vmctx_ptr().add(offset as usize) as *mut F }
    }

    /// The `VMFuncRef` of function `index`.
    pub fn funcref(&self, index: u32) -> *mut VMFuncRef {
        self.field(self.offsets.funcref(index))
    }

    /// The instance owning a vmctx.
    ///
    /// # Safety
    /// `vmctx` must be the vmctx of a live instance.
    pub unsafe fn from_vmctx<'a>(vmctx: *mut u8) -> &'a mut InstanceData {
        // SAFETY: the header's `instance` field was set at instantiation to
        // the boxed InstanceData, which lives as long as its store.
        unsafe { &mut *(*(vmctx as *mut VMContextHeader)).instance.cast::<InstanceData>() }
    }

    /// Memory `index` of this instance, to read.
    pub fn memory(&self, index: u32) -> &LinearMemory {
        let i = self.memories[index as usize];
        // SAFETY: the store outlives its instances, and no mutable
        // reference to its memories outlives the `memory_mut` call site
        // that made it.
        unsafe { &(&(*self.store).memories)[i] }
    }

    /// Memory `index` of this instance, to change.
    ///
    /// # Safety
    /// No other reference to that memory may be used while the result is.
    #[allow(clippy::mut_from_ref, reason = "exclusivity is the caller's `unsafe` promise")]
    pub unsafe fn memory_mut(&self, index: u32) -> &mut LinearMemory {
        let i = self.memories[index as usize];
        // SAFETY: the store outlives its instances; exclusivity is the
        // caller's promise.
        unsafe { &mut (&mut (*self.store).memories)[i] }
    }

    /// Table `index` of this instance, to read.
    pub fn table(&self, index: u32) -> &Table {
        let i = self.tables[index as usize];
        // SAFETY: as in `memory`.
        unsafe { &(&(*self.store).tables)[i] }
    }

    /// Table `index` of this instance, to change.
    ///
    /// # Safety
    /// No other reference to that table may be used while the result is.
    #[allow(clippy::mut_from_ref, reason = "exclusivity is the caller's `unsafe` promise")]
    pub unsafe fn table_mut(&self, index: u32) -> &mut Table {
        let i = self.tables[index as usize];
        // SAFETY: as in `memory_mut`.
        unsafe { &mut (&mut (*self.store).tables)[i] }
    }

    /// Evaluates a constant expression.
    pub fn eval(&self, expr: &ConstExpr) -> ValRaw {
        let value = expr.evaluate(
            |g| {
                // SAFETY: global storage lives in this or an exporting
                // instance of the same store.
                let bytes = unsafe { (*self.globals[g as usize]).bytes };
                Some(u128::from_le_bytes(bytes[..16].try_into().unwrap()))
            },
            |f| Some(self.funcref(f) as u64),
        );
        ValRaw::from_u128(value.expect("validated constant expression"))
    }
}

fn limits_match(actual: Limits, declared: Limits) -> bool {
    actual.min >= declared.min
        && match declared.max {
            None => true,
            Some(dm) => actual.max.is_some_and(|am| am <= dm),
        }
}

impl Instance {
    /// Instantiates `module` in `store`, with imports given in the order of
    /// [`Module::imports`].
    pub fn new<T>(store: &mut Store<T>, module: &Module, imports: &[Extern]) -> Result<Instance> {
        let opaque = &mut store.inner.opaque as *mut StoreOpaque;
        // SAFETY: `opaque` comes from the exclusive borrow of `store`.
        unsafe { instantiate(opaque, module, imports) }
    }

    fn data<'a>(&self, store: &'a StoreOpaque) -> &'a InstanceData {
        &store.instances[self.index]
    }

    /// The module it was instantiated from.
    pub fn module(&self, store: &impl AsStore) -> Module {
        self.data(store.inner().opaque()).module.clone()
    }

    /// The export called `name`.
    pub fn get_export(&self, store: &impl AsStore, name: &str) -> Option<Extern> {
        let opaque = store.inner().opaque();
        opaque.check(self.store_id).ok()?;
        let data = self.data(opaque);
        let export = data.module.info().export(name)?;
        Some(export_extern(opaque, self.index, export.kind, export.index))
    }

    /// All exports, in order, with their names.
    pub fn exports(&self, store: &impl AsStore) -> Vec<(String, Extern)> {
        let opaque = store.inner().opaque();
        let data = self.data(opaque);
        data.module
            .info()
            .exports
            .iter()
            .map(|e| (e.name.clone(), export_extern(opaque, self.index, e.kind, e.index)))
            .collect()
    }

    /// The exported function `name`.
    pub fn get_func(&self, store: &impl AsStore, name: &str) -> Option<Func> {
        match self.get_export(store, name)? {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }

    /// The exported memory `name`.
    pub fn get_memory(&self, store: &impl AsStore, name: &str) -> Option<Memory> {
        match self.get_export(store, name)? {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    /// The exported global `name`.
    pub fn get_global(&self, store: &impl AsStore, name: &str) -> Option<Global> {
        match self.get_export(store, name)? {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }

    /// The exported table `name`.
    pub fn get_table(&self, store: &impl AsStore, name: &str) -> Option<TableHandle> {
        match self.get_export(store, name)? {
            Extern::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The exported function `name` with a checked static signature.
    pub fn get_typed_func<P, R>(
        &self,
        store: &impl AsStore,
        name: &str,
    ) -> Result<super::func::TypedFunc<P, R>>
    where
        P: super::values::WasmParams,
        R: super::values::WasmResults,
    {
        let f = self
            .get_func(store, name)
            .ok_or_else(|| Error::Link(format!("no exported function named `{name}`")))?;
        f.typed::<P, R>(store)
    }
}

fn export_extern(store: &StoreOpaque, instance: usize, kind: ExternKind, index: u32) -> Extern {
    let data = &store.instances[instance];
    match kind {
        ExternKind::Func => Extern::Func(Func::from_funcref(store.id, data.funcref(index))),
        ExternKind::Memory => {
            Extern::Memory(Memory { store_id: store.id, index: data.memories[index as usize] })
        }
        ExternKind::Table => {
            Extern::Table(TableHandle { store_id: store.id, index: data.tables[index as usize] })
        }
        ExternKind::Global => Extern::Global(Global {
            store_id: store.id,
            def: data.globals[index as usize] as usize,
            ty: data.module.info().globals[index as usize],
        }),
    }
}

/// Instantiates `module` into the store.
///
/// A failed instantiation leaves the store as it was, unless one of the
/// new instance's functions may already be reachable from outside (an
/// element segment wrote it into an imported table, or the start function
/// ran with imports to pass it to): the spec keeps such an instance alive,
/// so its memories and tables stay, counted against the store's limits.
///
/// # Safety
/// `store` must be valid and exclusively accessible for the duration.
pub(crate) unsafe fn instantiate(
    store: *mut StoreOpaque,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance> {
    // SAFETY: caller guarantees exclusive access.
    let s = unsafe { &mut *store };
    if !module.engine().same(&s.engine) {
        return Err(Error::Usage("module was compiled by another engine".into()));
    }
    let info = module.info();
    if imports.len() != info.imports.len() {
        return Err(Error::Link(format!(
            "module expects {} imports, {} given",
            info.imports.len(),
            imports.len()
        )));
    }
    // Everything the instance will create is charged before any of it is.
    let memories: Vec<u64> = info.memories[info.imported_memories as usize..]
        .iter()
        .map(|m| m.limits.min.saturating_mul(crate::types::WASM_PAGE_SIZE))
        .collect();
    let tables: Vec<u64> = info.table_defs.iter().map(|t| t.ty.limits.min).collect();
    s.check_room(1, &memories, &tables)?;
    let mark = s.mark();
    let mut escaped = false;
    // SAFETY: forwarded from the caller.
    let result = unsafe { build(store, module, imports, &mut escaped) };
    if result.is_err() && !escaped {
        // SAFETY: as above; nothing of the failed instance is referenced.
        unsafe { (*store).undo_to(mark) };
    }
    result
}

/// Builds the instance (see [`instantiate`]); sets `escaped` once one of
/// its functions may be referenced from outside it.
///
/// # Safety
/// As [`instantiate`].
unsafe fn build(
    store: *mut StoreOpaque,
    module: &Module,
    imports: &[Extern],
    escaped: &mut bool,
) -> Result<Instance> {
    // SAFETY: caller guarantees exclusive access.
    let s = unsafe { &mut *store };
    let info = module.info();
    let offsets = VMOffsets::new(info.vm_counts());
    let words = (offsets.size() as usize).div_ceil(16);
    let mut data = Box::new(InstanceData {
        module: module.clone(),
        index: s.instances.len(),
        offsets,
        vmctx: vec![0u128; words.max(1)].into_boxed_slice(),
        store,
        memories: Vec::new(),
        tables: Vec::new(),
        globals: Vec::new(),
        host_imports: Vec::new(),
        elems: Vec::new(),
        datas_live: vec![true; info.datas.len()],
    });
    let artifact = &module.inner.artifact;
    let meta = &artifact.metadata;
    let vmctx = data.vmctx_ptr();
    // SAFETY (block): all writes below go to fields of this instance's own
    // vmctx, at offsets computed by `VMOffsets` for this module, or to
    // store-owned objects that outlive it.
    unsafe {
        let header = vmctx as *mut VMContextHeader;
        (*header).store = s.vm.ptr();
        (*header).builtins = &BUILTIN_TABLE as *const _ as *const usize;
        (*header).instance = &mut *data as *mut InstanceData as *mut u8;
        for (i, &id) in module.inner.type_ids.iter().enumerate() {
            *data.field::<u32>(offsets.type_id(i as u32)) = id;
        }
    }

    // Imports.
    let mut func_import = 0u32;
    for (i, (import, ext)) in info.imports.iter().zip(imports).enumerate() {
        let what = || format!("import #{i} `{}::{}`", import.module, import.name);
        match (&import.ty, ext) {
            (ImportType::Func(t), Extern::Func(f)) => {
                s.check(f.store_id())?;
                let expected = module.inner.type_ids[*t as usize];
                let actual = f.type_id(s);
                if actual != expected {
                    return Err(Error::Link(format!(
                        "{}: expected a function of type {}, got {}",
                        what(),
                        s.engine.type_of(expected),
                        s.engine.type_of(actual)
                    )));
                }
                let idx = func_import;
                func_import += 1;
                let own_funcref = data.funcref(idx);
                // SAFETY: writes to this instance's vmctx (see above).
                unsafe {
                    match f.wasm_funcref() {
                        Some(fr) => {
                            *data.field::<VMFunctionImport>(offsets.func_import(idx)) =
                                VMFunctionImport { wasm_call: (*fr).wasm_call, vmctx: (*fr).vmctx };
                            *own_funcref = *fr;
                            data.host_imports.push(None);
                        }
                        None => {
                            let adapter = artifact.code(meta.host_adapters[idx as usize]);
                            *data.field::<VMFunctionImport>(offsets.func_import(idx)) =
                                VMFunctionImport { wasm_call: adapter, vmctx };
                            *own_funcref = VMFuncRef {
                                wasm_call: adapter,
                                array_call: artifact.code(meta.trampolines[*t as usize]),
                                vmctx,
                                type_id: expected,
                                _reserved: 0,
                            };
                            let (shim, index) = f.host_parts().expect("host function");
                            data.host_imports.push(Some(HostImport { shim, index }));
                        }
                    }
                }
            }
            (ImportType::Memory(ty), Extern::Memory(m)) => {
                s.check(m.store_id)?;
                let mem = &s.memories[m.index];
                let actual = Limits { min: mem.pages(), max: mem.ty.limits.max };
                if !limits_match(actual, ty.limits) {
                    return Err(Error::Link(format!("{}: incompatible memory limits", what())));
                }
                // SAFETY: vmctx field write.
                unsafe {
                    *data.field::<*mut VMMemoryDefinition>(
                        offsets.memory_import(data.memories.len() as u32),
                    ) = mem.def
                };
                data.memories.push(m.index);
            }
            (ImportType::Table(ty), Extern::Table(t)) => {
                s.check(t.store_id)?;
                let table = &s.tables[t.index];
                let actual = Limits { min: table.len(), max: table.ty.limits.max };
                if table.ty.element != ty.element || !limits_match(actual, ty.limits) {
                    return Err(Error::Link(format!("{}: incompatible table type", what())));
                }
                // SAFETY: vmctx field write.
                unsafe {
                    *data.field::<*mut VMTableDefinition>(
                        offsets.table_import(data.tables.len() as u32),
                    ) = table.def
                };
                data.tables.push(t.index);
            }
            (ImportType::Global(ty), Extern::Global(g)) => {
                s.check(g.store_id)?;
                if g.ty != *ty {
                    return Err(Error::Link(format!("{}: incompatible global type", what())));
                }
                let def = g.def as *mut VMGlobalDefinition;
                // SAFETY: vmctx field write.
                unsafe {
                    *data.field::<*mut VMGlobalDefinition>(
                        offsets.global_import(data.globals.len() as u32),
                    ) = def
                };
                data.globals.push(def);
            }
            (ty, ext) => {
                return Err(Error::Link(format!(
                    "{}: expected a {}, got a {}",
                    what(),
                    ty.kind(),
                    ext.kind()
                )));
            }
        }
    }

    // Defined memories, each preferably in a pooled reservation that still
    // maps its image.
    for (d, ty) in info.memories[info.imported_memories as usize..].iter().enumerate() {
        let image = module.inner.memory_image(d).map(|im| im.id());
        let index = s.new_memory(*ty, image)?;
        let mem = &mut s.memories[index];
        let def = data.field::<VMMemoryDefinition>(offsets.memory(d as u32));
        // SAFETY: vmctx field write; the memory keeps pointing at it.
        unsafe { *def = mem.initial_definition() };
        mem.def = def;
        data.memories.push(index);
    }
    if let Some(&m0) = data.memories.first() {
        // SAFETY: vmctx header write.
        unsafe { (*(vmctx as *mut VMContextHeader)).heap_base = s.memories[m0].base() };
    }

    // Defined functions' funcrefs (before tables and globals, which may refer to them).
    for (d, &off) in meta.func_offsets.iter().enumerate() {
        let f = info.imported_funcs + d as u32;
        let t = info.funcs[f as usize];
        // SAFETY: vmctx field write.
        unsafe {
            *data.funcref(f) = VMFuncRef {
                wasm_call: artifact.code(off),
                array_call: artifact.code(meta.trampolines[t as usize]),
                vmctx,
                type_id: module.inner.type_ids[t as usize],
                _reserved: 0,
            };
        }
    }

    // Fuel as Wasmtime's startup function charges it (`startup_fuel`).
    let unmetered = StartupPlan::default();
    let plan = if s.fuel_enabled { module.inner.startup_plan() } else { &unmetered };
    let costs = s.engine.config().fuel_costs.clone();
    let mut meter = Meter::start(s, plan).map_err(Error::Trap)?;

    // Defined globals.
    for (d, g) in info.global_defs.iter().enumerate() {
        if !is_numeric_constant(&g.init) {
            meter.add(expr_cost(&costs, &g.init));
        }
        let value = data.eval(&g.init);
        let def = data.field::<VMGlobalDefinition>(offsets.global(d as u32));
        // SAFETY: vmctx field write.
        unsafe {
            (*def).bytes = value.u128().to_le_bytes();
        }
        data.globals.push(def);
    }

    for seg in info.elems.iter().filter(|e| e.expressions && matches!(e.mode, ElemMode::Passive)) {
        meter.add(seg.items.iter().map(|x| expr_cost(&costs, x)).sum());
    }

    // Defined tables.
    for (d, t) in info.table_defs.iter().enumerate() {
        if let Some(e) = t.init.as_ref().filter(|_| !table_init_precomputed(info, d)) {
            meter.add(expr_cost(&costs, e));
            let fill = t.ty.limits.min as i64 * costs.variable.table_fill_per_element as i64;
            meter.bulk(s, fill).map_err(Error::Trap)?;
        }
        let init = t.init.as_ref().map_or(0, |e| data.eval(e).u64());
        let index = s.new_table(t.ty, init)?;
        let table = &mut s.tables[index];
        table.def = data.field::<VMTableDefinition>(offsets.table(d as u32));
        table.sync();
        data.tables.push(index);
    }

    // Element segments are evaluated now; passive ones stay for table.init.
    data.elems = info
        .elems
        .iter()
        .map(|e| Some(e.items.iter().map(|x| data.eval(x).u64()).collect()))
        .collect();

    // From here on the instance may be referenced from shared tables even if
    // initialisation traps, so it joins the store first.
    let index = s.instances.len();
    s.instances.push(data);
    let instance = Instance { store_id: s.id, index };
    let data = &mut s.instances[index];

    let elems: Result<()> = 'elems: {
        for (i, seg) in info.elems.iter().enumerate() {
            match &seg.mode {
                ElemMode::Active { table, offset } => {
                    let items = data.elems[i].take().unwrap_or_default();
                    if i >= plan.runtime_elems_from {
                        let per = costs.variable.table_init_per_element as i64;
                        meter.add(expr_cost(&costs, offset));
                        // SAFETY: the store outlives this call; the meter
                        // touches only its fuel state, not the instance.
                        let bulk = meter.bulk(unsafe { &mut *store }, items.len() as i64 * per);
                        if let Err(trap) = bulk {
                            break 'elems Err(Error::Trap(trap));
                        }
                        if seg.expressions {
                            meter.add(seg.items.iter().map(|x| expr_cost(&costs, x)).sum());
                        }
                    }
                    let dst = data.eval(offset).u32() as u64;
                    // SAFETY: the only reference to the table while it is used.
                    let t = unsafe { data.table_mut(*table) };
                    match checked_range(dst, items.len() as u64, t.len()) {
                        Some(r) => t.elements_mut()[r].copy_from_slice(&items),
                        None => {
                            break 'elems Err(Error::Trap(Trap::new(TrapCode::TableOutOfBounds)));
                        }
                    }
                    if (*table) < info.imported_tables && !items.is_empty() {
                        *escaped = true;
                    }
                }
                ElemMode::Declared => data.elems[i] = None,
                ElemMode::Passive => {}
            }
        }
        Ok(())
    };
    if let Err(e) = elems {
        // A memory from the pool may already hold its image, which must not
        // show before data initialisation, should the instance stay reachable.
        if *escaped {
            for m in info.imported_memories..info.memories.len() as u32 {
                // SAFETY: the instance's own memory; no code has run on it.
                unsafe { data.memory_mut(m) }.clear_image().map_err(Error::Limit)?;
            }
        }
        return Err(e);
    }
    // Memories with a copy-on-write image get it mapped instead of their
    // segments copied (images exist only when no segment can trap).
    let mut imaged = vec![false; info.memories.len()];
    let first_defined = info.imported_memories as usize;
    for (m, mapped) in imaged.iter_mut().enumerate().skip(first_defined) {
        let Some(image) = module.inner.memory_image(m - first_defined) else { continue };
        // SAFETY: the memory is this instance's own and no code has run
        // on it yet; no reference to its bytes is live.
        *mapped = unsafe { data.memory_mut(m as u32).take_image(&image) }.map_err(Error::Limit)?;
    }
    for &len in &plan.image_lengths {
        if plan.images_mapped {
            // Wasmtime skips the initialisation block of a memory that has
            // an image mapped, and the fuel pending before it with it.
            meter.drop_pending();
        } else {
            meter.add(len as i64 * costs.variable.memory_init_per_byte as i64);
            // SAFETY: as for element segments above.
            meter.check(unsafe { &mut *store }).map_err(Error::Trap)?;
        }
    }
    for (i, seg) in info.datas.iter().enumerate() {
        if let DataMode::Active { memory, offset } = &seg.mode {
            data.datas_live[i] = false;
            if !plan.static_data {
                let per = costs.variable.memory_init_per_byte as i64;
                meter.add(expr_cost(&costs, offset) + seg.bytes.len() as i64 * per);
                // SAFETY: as for element segments above.
                meter.check(unsafe { &mut *store }).map_err(Error::Trap)?;
            }
            if imaged[*memory as usize] {
                continue;
            }
            let dst = data.eval(offset).u32() as u64;
            // SAFETY: the only reference to the memory while it is used.
            let mem = unsafe { data.memory_mut(*memory) };
            match checked_range(dst, seg.bytes.len() as u64, mem.len() as u64) {
                Some(r) => mem.data_mut()[r].copy_from_slice(&seg.bytes),
                None => return Err(Error::Trap(Trap::new(TrapCode::MemoryOutOfBounds))),
            }
        }
    }

    if let Some(start) = info.start {
        // With imports, the start function can hand its instance's
        // functions out (through a table, a global or a host function).
        *escaped |= info.imports.iter().any(|i| !matches!(i.ty, ImportType::Memory(_)));
        let funcref = data.funcref(start);
        // SAFETY: as for element segments above.
        meter.before_start(unsafe { &mut *store });
        let mut slots = [ValRaw::default(); 1];
        // SAFETY: the funcref is initialised and takes no parameters.
        unsafe { super::call::invoke(store, funcref, slots.as_mut_ptr()) }.map_err(Error::Trap)?;
    }
    // SAFETY: as for element segments above.
    meter.finish(unsafe { &mut *store });
    Ok(instance)
}
