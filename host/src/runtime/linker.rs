//! `Linker`: resolves a module's imports by name.

use super::externs::Extern;
use super::func::{Caller, Func, HostResult};
use super::instance::Instance;
use super::store::Store;
use super::values::{Val, WasmParams, WasmResults};
use crate::error::{Error, Result};
use crate::info::ImportType;
use crate::module::Module;
use crate::types::FuncType;
use std::collections::HashMap;

/// Named definitions (`module::name`) to satisfy imports from.
pub struct Linker<T> {
    defs: HashMap<(String, String), Extern>,
    _marker: std::marker::PhantomData<fn(T)>,
}

impl<T> Default for Linker<T> {
    fn default() -> Self {
        Linker { defs: HashMap::new(), _marker: std::marker::PhantomData }
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new() -> Linker<T> {
        Linker::default()
    }

    /// Defines `module::name` (replacing an earlier definition).
    pub fn define(&mut self, module: &str, name: &str, item: impl Into<Extern>) -> &mut Self {
        self.defs.insert((module.to_string(), name.to_string()), item.into());
        self
    }

    /// Defines a host function with a static signature.
    pub fn func_wrap<P, R, Out>(
        &mut self,
        store: &mut Store<T>,
        module: &str,
        name: &str,
        func: impl Fn(Caller<'_, T>, P) -> Out + Send + Sync + 'static,
    ) -> &mut Self
    where
        P: WasmParams + 'static,
        R: WasmResults + 'static,
        Out: HostResult<R>,
    {
        let f = Func::wrap(store, func);
        self.define(module, name, f)
    }

    /// Defines a host function with a dynamic signature.
    pub fn func_new(
        &mut self,
        store: &mut Store<T>,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> &mut Self {
        let f = Func::new(store, ty, func);
        self.define(module, name, f)
    }

    /// Defines every export of `instance` under module name `module`.
    pub fn instance(&mut self, store: &Store<T>, module: &str, instance: Instance) -> &mut Self {
        for (name, ext) in instance.exports(store) {
            self.define(module, &name, ext);
        }
        self
    }

    /// The definition of `module::name`.
    pub fn get(&self, module: &str, name: &str) -> Option<Extern> {
        self.defs.get(&(module.to_string(), name.to_string())).copied()
    }

    /// Instantiates `module`, taking each import from this linker.
    pub fn instantiate(&self, store: &mut Store<T>, module: &Module) -> Result<Instance> {
        let mut imports = Vec::with_capacity(module.imports().len());
        for import in module.imports() {
            let ext = self.get(&import.module, &import.name).ok_or_else(|| {
                let what = match &import.ty {
                    ImportType::Func(t) => format!("function {}", module.info().types[*t as usize]),
                    other => other.kind().to_string(),
                };
                Error::Link(format!("missing import `{}::{}` ({what})", import.module, import.name))
            })?;
            imports.push(ext);
        }
        Instance::new(store, module, &imports)
    }
}
