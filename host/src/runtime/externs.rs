//! Handles to memories, tables and globals, and the `Extern` union used
//! for imports and exports.

use super::func::Func;
use super::memory::LinearMemory;
use super::range::checked_range;
use super::store::{AsStore, StoreOpaque};
use super::table::Table as TableData;
use super::values::Val;
use crate::contract::vmctx::{VMGlobalDefinition, VMTableDefinition};
use crate::error::{Error, Result};
use crate::info::ExternKind;
use crate::types::{GlobalType, MemoryType, TableType, ValType, WASM_PAGE_SIZE};

/// An importable or exportable entity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A linear memory.
    Memory(Memory),
    /// A table.
    Table(Table),
    /// A global.
    Global(Global),
}

impl Extern {
    /// Its kind.
    pub fn kind(&self) -> ExternKind {
        match self {
            Extern::Func(_) => ExternKind::Func,
            Extern::Memory(_) => ExternKind::Memory,
            Extern::Table(_) => ExternKind::Table,
            Extern::Global(_) => ExternKind::Global,
        }
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}
impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}
impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}
impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}

/// A linear memory in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

fn opaque(store: &impl AsStore, id: u64) -> Result<&StoreOpaque> {
    let o = store.inner().opaque();
    o.check(id)?;
    Ok(o)
}

impl Memory {
    /// A host-created memory (for example to share between modules).
    pub fn new(store: &mut impl AsStore, ty: MemoryType) -> Result<Memory> {
        let s = store.inner_mut().opaque_mut();
        let index = s.new_memory(ty, None)?;
        let mem = &mut s.memories[index];
        mem.def = Box::into_raw(Box::new(mem.initial_definition()));
        mem.owns_def = true;
        Ok(Memory { store_id: s.id, index })
    }

    fn get<'a>(&self, store: &'a impl AsStore) -> &'a LinearMemory {
        &opaque(store, self.store_id).expect("memory of another store").memories[self.index]
    }

    /// The bytes of the memory.
    ///
    /// # Panics
    /// If the memory belongs to another store.
    pub fn data<'a>(&self, store: &'a impl AsStore) -> &'a [u8] {
        self.get(store).data()
    }

    /// The bytes of the memory, mutably.
    pub fn data_mut<'a>(&self, store: &'a mut impl AsStore) -> &'a mut [u8] {
        let s = store.inner_mut().opaque_mut();
        s.check(self.store_id).expect("memory of another store");
        s.memories[self.index].data_mut()
    }

    /// The bytes of the memory and the store's host data, both mutably
    /// (for host functions that move data between the two).
    pub fn data_and_store_mut<'a, T: 'a>(
        &self,
        store: &'a mut impl AsStore<Data = T>,
    ) -> (&'a mut [u8], &'a mut T) {
        let inner = &mut store.inner_mut().0;
        inner.opaque.check(self.store_id).expect("memory of another store");
        (inner.opaque.memories[self.index].data_mut(), &mut inner.data)
    }

    /// Copies `buf.len()` bytes at `offset` out of the memory.
    pub fn read(&self, store: &impl AsStore, offset: usize, buf: &mut [u8]) -> Result<()> {
        let data = self.data(store);
        let range =
            checked_range(offset as u64, buf.len() as u64, data.len() as u64).ok_or_else(|| {
                Error::Usage(format!("read of {} bytes at {offset} is out of bounds", buf.len()))
            })?;
        buf.copy_from_slice(&data[range]);
        Ok(())
    }

    /// Copies `bytes` into the memory at `offset`.
    pub fn write(&self, store: &mut impl AsStore, offset: usize, bytes: &[u8]) -> Result<()> {
        let data = self.data_mut(store);
        let range = checked_range(offset as u64, bytes.len() as u64, data.len() as u64)
            .ok_or_else(|| {
                Error::Usage(format!("write of {} bytes at {offset} is out of bounds", bytes.len()))
            })?;
        data[range].copy_from_slice(bytes);
        Ok(())
    }

    /// Size in pages.
    pub fn size(&self, store: &impl AsStore) -> u64 {
        self.get(store).pages()
    }

    /// Size in bytes.
    pub fn data_size(&self, store: &impl AsStore) -> usize {
        self.get(store).len()
    }

    /// Grows by `delta` pages, returning the old size in pages.
    pub fn grow(&self, store: &mut impl AsStore, delta: u64) -> Result<u64> {
        let s = store.inner_mut().opaque_mut();
        s.check(self.store_id)?;
        s.grow_memory(self.index, delta).ok_or_else(|| {
            Error::Limit(
                s.refused_grow
                    .take()
                    .unwrap_or_else(|| format!("memory cannot grow by {delta} pages")),
            )
        })
    }

    /// The declared type.
    pub fn ty(&self, store: &impl AsStore) -> MemoryType {
        self.get(store).ty
    }
}

/// A table in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

impl Table {
    /// A host-created table filled with `init`.
    pub fn new(store: &mut impl AsStore, ty: TableType, init: Val) -> Result<Table> {
        let s = store.inner_mut().opaque_mut();
        check_ref(ty.element, &init, s.id)?;
        let index = s.new_table(ty, init.to_raw().u64())?;
        let table = &mut s.tables[index];
        table.def =
            Box::into_raw(Box::new(VMTableDefinition { base: std::ptr::null_mut(), length: 0 }));
        table.owns_def = true;
        table.sync();
        Ok(Table { store_id: s.id, index })
    }

    fn data<'a>(&self, store: &'a impl AsStore) -> &'a TableData {
        &opaque(store, self.store_id).expect("table of another store").tables[self.index]
    }

    /// Number of elements.
    pub fn size(&self, store: &impl AsStore) -> u64 {
        self.data(store).len()
    }

    /// The declared type.
    pub fn ty(&self, store: &impl AsStore) -> TableType {
        self.data(store).ty
    }

    /// Element `index`, or `None` when out of bounds.
    pub fn get(&self, store: &impl AsStore, index: u64) -> Option<Val> {
        let t = self.data(store);
        let raw = *t.elements().get(index as usize)?;
        Some(Val::from_raw(super::values::ValRaw::from_u64(raw), t.ty.element, self.store_id))
    }

    /// Sets element `index`.
    pub fn set(&self, store: &mut impl AsStore, index: u64, val: Val) -> Result<()> {
        let s = store.inner_mut().opaque_mut();
        s.check(self.store_id)?;
        let t = &mut s.tables[self.index];
        check_ref(t.ty.element, &val, self.store_id)?;
        let slot = t
            .elements_mut()
            .get_mut(index as usize)
            .ok_or_else(|| Error::Usage("table index out of bounds".into()))?;
        *slot = val.to_raw().u64();
        Ok(())
    }

    /// Grows by `delta` elements set to `init`, returning the old size.
    pub fn grow(&self, store: &mut impl AsStore, delta: u64, init: Val) -> Result<u64> {
        let s = store.inner_mut().opaque_mut();
        s.check(self.store_id)?;
        check_ref(s.tables[self.index].ty.element, &init, self.store_id)?;
        s.grow_table(self.index, delta, init.to_raw().u64()).ok_or_else(|| {
            Error::Limit(
                s.refused_grow.take().unwrap_or_else(|| format!("table cannot grow by {delta}")),
            )
        })
    }
}

/// Checks that `val` may be stored in a table of `element`s of the store
/// `store_id`.
fn check_ref(element: ValType, val: &Val, store_id: u64) -> Result<()> {
    if val.ty() != element {
        return Err(Error::Usage(format!("table of {element} cannot hold a {}", val.ty())));
    }
    val.check_store(store_id, "the table element")?;
    if let Val::FuncRef(Some(f)) = val
        && f.wasm_funcref().is_none() {
            return Err(Error::Usage(
                "only functions of instances can be stored in tables (import the host function first)".into(),
            ));
        }
    Ok(())
}

/// A global in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Global {
    pub(crate) store_id: u64,
    /// `*mut VMGlobalDefinition` as an integer.
    pub(crate) def: usize,
    pub(crate) ty: GlobalType,
}

impl Global {
    /// A host-created global with initial value `val`.
    pub fn new(store: &mut impl AsStore, ty: GlobalType, val: Val) -> Result<Global> {
        if val.ty() != ty.content {
            return Err(Error::Usage("global initial value has the wrong type".into()));
        }
        let s = store.inner_mut().opaque_mut();
        val.check_store(s.id, "the global's initial value")?;
        let mut def = Box::new(VMGlobalDefinition::default());
        def.bytes[..16].copy_from_slice(&val.to_raw().u128().to_le_bytes());
        let ptr = &mut *def as *mut VMGlobalDefinition as usize;
        s.host_globals.push(def);
        Ok(Global { store_id: s.id, def: ptr, ty })
    }

    /// The type.
    pub fn ty(&self) -> GlobalType {
        self.ty
    }

    /// The current value.
    pub fn get(&self, store: &impl AsStore) -> Val {
        opaque(store, self.store_id).expect("global of another store");
        // SAFETY: global storage lives as long as its store.
        let bytes = unsafe { (*(self.def as *const VMGlobalDefinition)).bytes };
        let raw = super::values::ValRaw::from_u128(u128::from_le_bytes(
            bytes[..16].try_into().expect("a global holds 16 bytes"),
        ));
        Val::from_raw(raw, self.ty.content, self.store_id)
    }

    /// Sets the value of a mutable global.
    pub fn set(&self, store: &mut impl AsStore, val: Val) -> Result<()> {
        store.inner_mut().opaque_mut().check(self.store_id)?;
        if !self.ty.mutable {
            return Err(Error::Usage("global is immutable".into()));
        }
        if val.ty() != self.ty.content {
            return Err(Error::Usage("value has the wrong type for this global".into()));
        }
        val.check_store(self.store_id, "the global's new value")?;
        // SAFETY: as in `get`; `&mut` store access excludes concurrent use.
        unsafe {
            (&mut (*(self.def as *mut VMGlobalDefinition)).bytes)[..16]
                .copy_from_slice(&val.to_raw().u128().to_le_bytes());
        }
        Ok(())
    }
}

/// Bytes in a wasm page, re-exported for convenience.
pub const PAGE_SIZE: u64 = WASM_PAGE_SIZE;
