//! The engine: configuration, compiler settings, artifact cache and the
//! registry of function signatures shared by all modules.
//!
//! This is the only file that sees both the compiler and the runtime.

use crate::cache::Cache;
use crate::compiler::CodegenConfig;
use crate::compiler::x64::IsaFlags;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::runtime::pool::MemoryPool;
use crate::types::FuncType;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Compiles and caches modules; shared by every store that runs them.
/// Cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    config: Config,
    codegen: CodegenConfig,
    cache: Cache,
    types: Mutex<TypeRegistry>,
    /// Idle memory reservations, when pooling is on.
    pool: Option<MemoryPool>,
}

/// Signatures in use, each with the number of registrations holding it
/// (one per type index of each live module and per host function), so
/// that dropped modules give their signatures back.
#[derive(Default)]
struct TypeRegistry {
    ids: HashMap<FuncType, u32>,
    entries: Vec<Option<(FuncType, usize)>>,
    free: Vec<u32>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("config", &self.inner.config).finish()
    }
}

impl Engine {
    /// An engine with this configuration. Fails when the CPU lacks the
    /// baseline features, or the cache directory cannot be created or is
    /// not private to you (the README's "Layout" section says what is checked).
    pub fn new(config: Config) -> Result<Engine> {
        IsaFlags::check_baseline().map_err(Error::Unsupported)?;
        let dir = config.resolved_cache_dir().map_err(Error::Unsupported)?;
        let cache = Cache::open(&dir).map_err(|source| Error::Io { path: dir.clone(), source })?;
        let codegen = CodegenConfig {
            isa: IsaFlags::host(),
            optimize: config.optimize,
            fuel: config.consume_fuel.then(|| config.fuel_costs.clone()),
            interruptible: config.interruptible,
        };
        let pool = config.pooling.then(|| {
            let max_reservation = usize::try_from(config.pool_max_memory_reservation);
            MemoryPool::new(config.pool_max_idle_memories, max_reservation.unwrap_or(usize::MAX))
        });
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config,
                codegen,
                cache,
                types: Mutex::new(TypeRegistry::default()),
                pool,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The code generation settings (part of every cache key).
    pub fn codegen(&self) -> &CodegenConfig {
        &self.inner.codegen
    }

    /// The artifact cache.
    pub fn cache(&self) -> &Cache {
        &self.inner.cache
    }

    /// The pool of idle memory reservations, when pooling is on.
    pub(crate) fn memory_pool(&self) -> Option<&MemoryPool> {
        self.inner.pool.as_ref()
    }

    /// The number of idle memory reservations the engine keeps (for tests).
    #[doc(hidden)]
    pub fn pooled_memories(&self) -> usize {
        self.inner.pool.as_ref().map_or(0, MemoryPool::idle)
    }

    /// Registers a use of signature `ty` and returns its engine-wide id
    /// (equal signatures, equal ids, while any use is registered). Every
    /// registration is given back with [`Engine::release_type`].
    pub(crate) fn register_type(&self, ty: &FuncType) -> u32 {
        let mut reg = self.inner.types.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&id) = reg.ids.get(ty) {
            if let Some((_, refs)) = &mut reg.entries[id as usize] {
                *refs += 1;
            }
            return id;
        }
        let id = match reg.free.pop() {
            Some(id) => id,
            None => {
                reg.entries.push(None);
                reg.entries.len() as u32 - 1
            }
        };
        reg.entries[id as usize] = Some((ty.clone(), 1));
        reg.ids.insert(ty.clone(), id);
        id
    }

    /// Gives back one registration of signature `id`; the id is reused
    /// once none is left.
    pub(crate) fn release_type(&self, id: u32) {
        let mut reg = self.inner.types.lock().unwrap_or_else(|p| p.into_inner());
        let reg = &mut *reg;
        let Some(Some((ty, refs))) = reg.entries.get_mut(id as usize) else { return };
        *refs -= 1;
        if *refs == 0 {
            reg.ids.remove(ty);
            reg.entries[id as usize] = None;
            reg.free.push(id);
        }
    }

    /// The number of distinct signatures registered (for tests).
    #[doc(hidden)]
    pub fn registered_types(&self) -> usize {
        let reg = self.inner.types.lock().unwrap_or_else(|p| p.into_inner());
        reg.ids.len()
    }

    /// The signature with id `id`.
    pub fn type_of(&self, id: u32) -> FuncType {
        let reg = self.inner.types.lock().unwrap_or_else(|p| p.into_inner());
        match reg.entries.get(id as usize) {
            Some(Some((ty, _))) => ty.clone(),
            _ => FuncType::new(vec![], vec![]),
        }
    }

    /// Whether two handles are the same engine.
    pub fn same(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Default for Engine {
    /// An engine with the default configuration.
    ///
    /// # Panics
    /// When the machine cannot run Scion or the cache directory cannot be
    /// created; use [`Engine::new`] to handle that.
    fn default() -> Engine {
        Engine::new(Config::default()).expect("default engine")
    }
}
