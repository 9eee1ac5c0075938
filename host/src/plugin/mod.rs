//! Plugins built with the Scion SDK (`scion_sdk::plugin`): load one, check
//! its schema against the host's, link the runtime services and the host
//! interfaces it calls, initialise it with its configuration, and call it
//! through the typed clients `#[interface]` generates.
//!
//! ```no_run
//! # use scion::{Engine, Plugin};
//! # fn demo() -> scion::Result<()> {
//! let engine = Engine::default();
//! let mut plugin = Plugin::builder(&engine).name("upper").load_file("upper.wasm")?;
//! // With an interface crate: `let mut filter = FilterClient::new(&mut plugin)?;`
//! plugin.set_fuel(1_000_000)?;
//! # Ok(()) }
//! ```
//!
//! A plugin that traps (panic, out of fuel, interrupted, out of bounds...)
//! is *poisoned*: its memory may hold half-updated data structures, so
//! further calls fail with [`Error::Poisoned`] until [`Plugin::restart`]
//! gives it a fresh instance (or a hot reload replaces it).

mod imports;
mod reload;
mod restart;
mod schema_check;
mod transport;
mod watch;

pub use reload::{PluginGuard, PluginHandle, ReloadEvent, StatePolicy};
pub use restart::RestartPolicy;
pub use watch::Watcher;

pub use schema_check::read_section as read_schema;

use crate::runtime::store::StoreLimits;
use crate::{
    Engine, Error, Func, Instance, InterruptHandle, Memory, Module, Result, Store, TypedFunc,
};
use parking_lot::Mutex;
use scion_sdk::abi;
use scion_sdk::host::Dispatch;
use scion_sdk::schema::{OwnedType, SchemaSection};
use scion_sdk::shape::{DEFAULT_MAX_DEPTH, Shape};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A host implementation of an interface, shared by every version of a
/// plugin (hot reload keeps it).
pub(crate) type SharedServer = Arc<Mutex<Box<dyn Dispatch>>>;

/// The host data of a plugin's store.
pub struct PluginData {
    name: Arc<str>,
    /// The panic message the plugin reported during the current call.
    panic: Option<String>,
    servers: Vec<SharedServer>,
    /// Memory and allocator, once instantiated (host calls reply through them).
    guest: Option<GuestAbi>,
    /// Limits on what the plugin passes to host interfaces.
    wire: WireLimits,
    /// The plugin's WASI state, for a plugin built for `wasm32-wasip1`.
    #[cfg(feature = "wasi")]
    wasi: Option<crate::wasi::WasiCtx>,
}

impl PluginData {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The SDK exports every plugin has.
#[derive(Clone, Copy)]
pub(crate) struct GuestAbi {
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    free: TypedFunc<(i32, i32), ()>,
}

/// A method's export, looked up and type-checked once.
pub(crate) struct MethodExport {
    interface: Box<str>,
    method: Box<str>,
    func: Func,
    /// Its parameter types, checked against the arguments of each scalar call.
    params: Box<[crate::ValType]>,
    /// The type of its result, if it has one.
    result: Option<crate::ValType>,
    /// For a serialized method whose result could nest without bound (a
    /// recursive type) once an interface check described it: the result's
    /// shape, checked before anything decodes the bytes.
    result_shape: Option<Arc<Shape>>,
}

/// Default for [`PluginBuilder::max_message_size`]: 16 MiB.
pub const DEFAULT_MAX_MESSAGE: u32 = 16 << 20;

/// Default fuel for saving and restoring state ([`PluginBuilder::state_budget`]).
pub const DEFAULT_STATE_FUEL: u64 = 10_000_000_000;

/// Timeouts longer than this (about a century) mean no deadline: no
/// point in time could be computed for them.
const MAX_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Bounds on the values crossing the boundary, in either direction.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WireLimits {
    /// Longest buffer read out of the plugin (results, host call
    /// arguments, saved state).
    pub(crate) max_message: u32,
    /// Deepest nesting of a value the host decodes.
    pub(crate) max_depth: u32,
}

impl Default for WireLimits {
    fn default() -> WireLimits {
        WireLimits { max_message: DEFAULT_MAX_MESSAGE, max_depth: DEFAULT_MAX_DEPTH }
    }
}

/// How to build a plugin; kept by the plugin so that it can be restarted.
#[derive(Clone)]
struct Settings {
    name: Arc<str>,
    /// The encoded configuration and its type, or why it did not encode.
    config: Option<std::result::Result<(Vec<u8>, OwnedType), String>>,
    servers: Vec<SharedServer>,
    limits: StoreLimits,
    fuel: Option<u64>,
    timeout: Option<Duration>,
    wire: WireLimits,
    /// Fuel and deadline for saving and restoring state, in place of the
    /// plugin's own.
    state_fuel: u64,
    state_timeout: Option<Duration>,
    /// What a plugin that imports WASI is granted (nothing, when unset).
    #[cfg(feature = "wasi")]
    wasi: Option<crate::wasi::WasiConfig>,
    /// Whether a trap restarts the plugin.
    restart: RestartPolicy,
    /// Interfaces checked at load, before the plugin's initialisation runs.
    expected: Vec<&'static scion_sdk::schema::InterfaceDesc>,
}

/// Builds a [`Plugin`]: name, configuration, host interfaces, limits.
pub struct PluginBuilder {
    engine: Engine,
    settings: Settings,
    named: bool,
}

impl PluginBuilder {
    /// The plugin's name, used in errors and as the target of its log
    /// records (default: the file stem, or `plugin`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.settings.name = name.into().into();
        self.named = true;
        self
    }

    /// The configuration the plugin is built from (its `#[plugin(config =
    /// T)]` type; checked against the plugin's schema at load).
    pub fn config<C: serde::Serialize + scion_sdk::Schema>(mut self, config: &C) -> Self {
        let encoded = scion_sdk::wire::encode(config).map_err(|e| e.0);
        self.settings.config = Some(encoded.map(|bytes| (bytes, OwnedType::of(&C::TYPE))));
        self
    }

    /// What the plugin gets when it imports WASI (a plugin built for
    /// `wasm32-wasip1`): its arguments, environment, preopened
    /// directories, standard streams, clocks and random source. Without
    /// this, such a plugin gets [`WasiConfig::new()`]: no arguments,
    /// environment or directories, empty standard input, standard output
    /// and error discarded, the host's clocks and random bytes. Restarts
    /// and reloads start from the same configuration, with fresh
    /// descriptors.
    ///
    /// [`WasiConfig::new()`]: crate::wasi::WasiConfig::new
    #[cfg(feature = "wasi")]
    pub fn wasi(mut self, config: crate::wasi::WasiConfig) -> Self {
        self.settings.wasi = Some(config);
        self
    }

    /// Serves a host interface to the plugin: pass the `<Trait>Server`
    /// that `#[interface]` generated, wrapping your implementation.
    pub fn host(mut self, server: impl Dispatch + 'static) -> Self {
        self.settings.servers.push(Arc::new(Mutex::new(Box::new(server))));
        self
    }

    /// Memory and table limits.
    pub fn limits(mut self, limits: StoreLimits) -> Self {
        self.settings.limits = limits;
        self
    }

    /// Initial fuel (needs [`crate::Config::consume_fuel`]); initialisation
    /// is charged too.
    pub fn fuel(mut self, fuel: u64) -> Self {
        self.settings.fuel = Some(fuel);
        self
    }

    /// A deadline for every call into the plugin (a timeout of a century
    /// or more means none).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = usable_timeout(Some(timeout));
        self
    }

    /// The longest buffer the host reads out of the plugin: a result, the
    /// arguments of a call to a host interface, the saved state (default
    /// [`DEFAULT_MAX_MESSAGE`], 16 MiB). Longer ones are refused with
    /// [`Error::Limit`] before the host allocates anything for them.
    pub fn max_message_size(mut self, bytes: u32) -> Self {
        self.settings.wire.max_message = bytes;
        self
    }

    /// The deepest nesting of a value the host decodes, for types that
    /// can nest without bound (recursive types): results of the plugin's
    /// methods and arguments of its calls to host interfaces (default
    /// [`DEFAULT_MAX_DEPTH`], 128; each option, list, map, tuple, struct
    /// and enum payload is a level). Deeper values are refused with
    /// [`Error::Wire`] before serde recurses into them.
    pub fn max_nesting(mut self, levels: u32) -> Self {
        self.settings.wire.max_depth = levels;
        self
    }

    /// The fuel (with [`crate::Config::consume_fuel`]) and deadline that
    /// saving and restoring state for a hot reload may use, instead of the
    /// plugin's remaining fuel and its per-call timeout, which are restored
    /// afterwards (default: [`DEFAULT_STATE_FUEL`], no deadline; a deadline
    /// needs [`crate::Config::interruptible`]).
    pub fn state_budget(mut self, fuel: u64, timeout: Option<Duration>) -> Self {
        self.settings.state_fuel = fuel;
        self.settings.state_timeout = usable_timeout(timeout);
        self
    }

    /// Checks the plugin against an interface when it loads, before any
    /// of its code runs: pass `<dyn Trait as scion_sdk::Interface>::DESC`.
    /// Without this, an interface is checked when its first client is made
    /// (`TraitClient::new`); either way a mismatch is an [`Error::Schema`]
    /// naming what differs, and every reload is checked against the same
    /// interfaces.
    pub fn expect_interface(
        mut self,
        interface: &'static scion_sdk::schema::InterfaceDesc,
    ) -> Self {
        if !self.settings.expected.iter().any(|i| std::ptr::eq(*i, interface)) {
            self.settings.expected.push(interface);
        }
        self
    }

    /// Whether and how often a plugin that trapped is restarted without
    /// the host asking (default [`RestartPolicy::NEVER`]). A restart gives
    /// the plugin the builder's initial fuel ([`PluginBuilder::fuel`]) and,
    /// under [`RestartPolicy::keep_state`], its last checkpoint.
    pub fn restart_policy(mut self, policy: RestartPolicy) -> Self {
        self.settings.restart = policy;
        self
    }

    /// Instantiates and initialises a compiled module.
    pub fn instantiate(self, module: &Module) -> Result<Plugin> {
        Plugin::start(&self.engine, module.clone(), self.settings)
    }

    /// Compiles (or loads from the cache) wasm bytes and instantiates them.
    pub fn load(self, wasm: impl AsRef<[u8]>) -> Result<Plugin> {
        let module = Module::new(&self.engine, wasm)?;
        self.instantiate(&module)
    }

    /// Compiles (or loads from the cache) a `.wasm` file and instantiates it.
    pub fn load_file(mut self, path: impl AsRef<Path>) -> Result<Plugin> {
        let path = path.as_ref();
        self.name_after(path);
        let module = Module::from_file(&self.engine, path)?;
        self.instantiate(&module)
    }

    /// Like [`PluginBuilder::load`], for a plugin that can be hot-reloaded
    /// ([`PluginHandle::reload`]).
    pub fn reloadable(self, wasm: impl AsRef<[u8]>) -> Result<PluginHandle> {
        let module = Module::new(&self.engine, wasm)?;
        PluginHandle::new(&self.engine, self.settings, module, None)
    }

    /// Like [`PluginBuilder::load_file`], for a plugin that can be
    /// hot-reloaded from its file ([`PluginHandle::reload_file`],
    /// [`PluginHandle::watch`]).
    pub fn reloadable_file(mut self, path: impl AsRef<Path>) -> Result<PluginHandle> {
        let path = path.as_ref();
        self.name_after(path);
        let module = Module::from_file(&self.engine, path)?;
        PluginHandle::new(&self.engine, self.settings, module, Some(path.to_path_buf()))
    }

    fn name_after(&mut self, path: &Path) {
        if !self.named
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
        {
            self.settings.name = stem.into();
        }
    }
}

/// One running plugin: a module instantiated in its own store, with its
/// SDK runtime initialised. Call it through an interface client
/// (`FilterClient::new(&mut plugin)?`), which uses its
/// [`scion_sdk::host::Transport`] implementation.
pub struct Plugin {
    store: Store<PluginData>,
    instance: Instance,
    module: Module,
    guest: GuestAbi,
    schema: SchemaSection,
    settings: Settings,
    /// Exports already looked up and type-checked.
    exports: Vec<MethodExport>,
    /// Why the plugin may not be called again, after a trap.
    poisoned: Option<String>,
    /// Interfaces already checked by `Transport::check`, each with the
    /// index in `exports` of each of its methods (by position).
    checked: Vec<(&'static scion_sdk::schema::InterfaceDesc, Box<[usize]>)>,
    /// Restarts so far and the state a restart restores.
    recovery: restart::Recovery,
}

impl Plugin {
    /// A builder with default settings.
    pub fn builder(engine: &Engine) -> PluginBuilder {
        PluginBuilder {
            engine: engine.clone(),
            settings: Settings {
                name: "plugin".into(),
                config: None,
                servers: Vec::new(),
                limits: StoreLimits::default(),
                fuel: None,
                timeout: None,
                wire: WireLimits::default(),
                state_fuel: DEFAULT_STATE_FUEL,
                state_timeout: None,
                #[cfg(feature = "wasi")]
                wasi: None,
                restart: RestartPolicy::NEVER,
                expected: Vec::new(),
            },
            named: false,
        }
    }

    /// Loads a plugin from wasm bytes with default settings.
    pub fn load(engine: &Engine, wasm: impl AsRef<[u8]>) -> Result<Plugin> {
        Plugin::builder(engine).load(wasm)
    }

    fn start(engine: &Engine, module: Module, settings: Settings) -> Result<Plugin> {
        let name = settings.name.clone();
        let schema = schema_check::read_section(&name, module.info())?;
        schema_check::check_config(&name, &schema, settings.config.as_ref())?;
        let data = PluginData {
            name: name.clone(),
            panic: None,
            servers: settings.servers.clone(),
            guest: None,
            wire: settings.wire,
            #[cfg(feature = "wasi")]
            wasi: None,
        };
        let mut store = Store::new(engine, data);
        store.set_limits(settings.limits);
        if let Some(fuel) = settings.fuel {
            store.set_fuel(fuel)?;
        }
        store.set_timeout(settings.timeout)?;
        #[cfg(feature = "wasi")]
        if crate::wasi::imports_wasi(&module) {
            let config = settings.wasi.clone().unwrap_or_default();
            store.data_mut().wasi = Some(config.build()?);
        }
        let imports = imports::link(&mut store, &module, &schema)?;
        let instance = Instance::new(&mut store, &module, &imports)?;
        let guest = guest_abi(&store, &instance, &name)?;
        store.data_mut().guest = Some(guest);
        let init = instance.get_typed_func::<(i32, i32), i32>(&store, abi::INIT_EXPORT).map_err(|_| {
            Error::Link(format!(
                "plugin `{name}` has no `{}` export of type (i32, i32) -> i32: build it with #[scion_sdk::plugin]",
                abi::INIT_EXPORT
            ))
        })?;
        let mut plugin = Plugin {
            store,
            instance,
            module,
            guest,
            schema,
            settings,
            exports: Vec::new(),
            poisoned: None,
            checked: Vec::new(),
            recovery: restart::Recovery::default(),
        };
        for interface in plugin.settings.expected.clone() {
            scion_sdk::host::Transport::check(&mut plugin, interface)?;
        }
        let config = match &plugin.settings.config {
            Some(Ok((bytes, _))) => bytes.clone(),
            _ => Vec::new(),
        };
        let status = plugin.guarded(|p| {
            let (ptr, len) = p.write_input(&config)?;
            init.call(&mut p.store, (ptr, len))
        });
        match status {
            Ok(0) => Ok(plugin),
            Ok(_) => {
                let message = plugin
                    .store
                    .data_mut()
                    .panic
                    .take()
                    .unwrap_or_else(|| "no reason given".into());
                Err(Error::Init { plugin: name.to_string(), message })
            }
            Err(Error::Trap(t))
                if t.code == crate::TrapCode::OutOfFuel && plugin.settings.fuel.is_none() =>
            {
                Err(Error::Init {
                    plugin: name.to_string(),
                    message: "out of fuel: the engine meters fuel and the plugin was given none \
                              (PluginBuilder::fuel)"
                        .into(),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// The module this plugin runs.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The plugin's instance (for calling exports that are not part of an
    /// interface).
    pub fn instance(&self) -> Instance {
        self.instance
    }

    /// The plugin's store.
    pub fn store(&self) -> &Store<PluginData> {
        &self.store
    }

    /// The plugin's store, mutably.
    pub fn store_mut(&mut self) -> &mut Store<PluginData> {
        &mut self.store
    }

    /// The plugin's schema section, decoded.
    pub fn schema(&self) -> &SchemaSection {
        &self.schema
    }

    /// Sets the remaining fuel.
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.store.set_fuel(fuel)
    }

    /// The remaining fuel.
    pub fn get_fuel(&self) -> Result<u64> {
        self.store.get_fuel()
    }

    /// Adds fuel.
    pub fn add_fuel(&mut self, fuel: u64) -> Result<()> {
        self.store.add_fuel(fuel)
    }

    /// Limits each later call to `timeout` (`None`, or a century or more:
    /// no deadline).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        let timeout = usable_timeout(timeout);
        self.store.set_timeout(timeout)?;
        self.settings.timeout = timeout;
        Ok(())
    }

    /// A handle another thread can use to interrupt a running call.
    pub fn interrupt_handle(&self) -> Result<InterruptHandle> {
        self.store.interrupt_handle()
    }

    /// Bytes of linear memory the plugin currently uses.
    pub fn memory_size(&self) -> usize {
        self.guest.memory.data_size(&self.store)
    }

    /// The plugin's state, serialized by the plugin (`#[plugin(state)]`),
    /// or `None` when it keeps no state across reloads.
    ///
    /// Saving runs on its own budget ([`PluginBuilder::state_budget`]), so
    /// it works when the plugin has used up its fuel; the plugin's fuel and
    /// timeout are as before afterwards. A trap while saving does not
    /// poison the plugin: saving only reads the state, which the caller
    /// would otherwise lose (at worst the plugin leaks the buffer it was
    /// filling). The state is at most [`PluginBuilder::max_message_size`]
    /// bytes.
    pub fn save_state(&mut self) -> Result<Option<Vec<u8>>> {
        let Ok(save) = self.instance.get_typed_func::<(), i64>(&self.store, abi::SAVE_STATE_EXPORT)
        else {
            return Ok(None);
        };
        if let Some(cause) = &self.poisoned {
            return Err(Error::Poisoned { plugin: self.name().to_string(), cause: cause.clone() });
        }
        self.store.data_mut().panic = None;
        let outcome = self.on_state_budget(|p| {
            let packed = save.call(&mut p.store, ())?;
            p.take_output(packed).map(Some)
        });
        outcome.map_err(|e| self.with_panic_message(e))
    }

    /// Runs `f` with the state budget in place of the plugin's fuel and
    /// deadline, then puts those back exactly (whatever `f` returned).
    fn on_state_budget<R>(&mut self, f: impl FnOnce(&mut Plugin) -> Result<R>) -> Result<R> {
        let fuel = self.store.get_fuel().ok();
        if fuel.is_some() {
            self.store.set_fuel(self.settings.state_fuel)?;
        }
        let outcome = match self.store.set_timeout(self.settings.state_timeout) {
            Ok(()) => f(self),
            Err(e) => Err(e),
        };
        let restored = self.store.set_timeout(self.settings.timeout);
        if let Some(fuel) = fuel {
            self.store.set_fuel(fuel)?;
        }
        let r = outcome?;
        restored?;
        Ok(r)
    }

    /// Replaces the plugin's state with one saved by [`Plugin::save_state`]
    /// (possibly by another version of the plugin).
    pub fn restore_state(&mut self, state: &[u8]) -> Result<()> {
        let restore = self
            .instance
            .get_typed_func::<(i32, i32), i32>(&self.store, abi::RESTORE_STATE_EXPORT)
            .map_err(|_| {
                Error::Link(format!(
                    "plugin `{}` has no `{}` export",
                    self.name(),
                    abi::RESTORE_STATE_EXPORT
                ))
            })?;
        let status = self.guarded(|p| {
            p.on_state_budget(|p| {
                let (ptr, len) = p.write_input(state)?;
                restore.call(&mut p.store, (ptr, len))
            })
        })?;
        if status != 0 {
            let message =
                self.store.data_mut().panic.take().unwrap_or_else(|| "no reason given".into());
            return Err(Error::Init { plugin: self.name().to_string(), message });
        }
        if self.settings.restart.keeps_state() {
            self.recovery.checkpoint = Some(state.to_vec());
        }
        Ok(())
    }

    /// Saves the plugin's state ([`Plugin::save_state`]) as its
    /// checkpoint: the state a restart restores under
    /// [`RestartPolicy::keep_state`], and that a reload carries when the
    /// serving version trapped. Returns whether the plugin keeps state.
    pub fn checkpoint(&mut self) -> Result<bool> {
        let saved = self.save_state()?;
        let kept = saved.is_some();
        self.recovery.checkpoint = saved;
        Ok(kept)
    }

    /// The state last saved by [`Plugin::checkpoint`] or restored into
    /// the plugin while its policy keeps state.
    pub fn last_checkpoint(&self) -> Option<&[u8]> {
        self.recovery.checkpoint.as_deref()
    }

    /// How many times the plugin was restarted automatically after a trap
    /// ([`PluginBuilder::restart_policy`]).
    pub fn restart_count(&self) -> u64 {
        self.recovery.count
    }

    /// Interfaces a client has checked this plugin against (a reload
    /// checks the new version against the same ones).
    pub(crate) fn checked_interfaces(
        &self,
    ) -> impl Iterator<Item = &'static scion_sdk::schema::InterfaceDesc> + '_ {
        self.checked.iter().map(|(i, _)| *i)
    }

    /// Why the plugin cannot be called, if it trapped earlier.
    pub fn poisoned(&self) -> Option<&str> {
        self.poisoned.as_deref()
    }

    /// Replaces the instance with a fresh one built with the same module,
    /// configuration, host interfaces, limits and initial fuel (as given
    /// to the builder), e.g. after a trap poisoned it. The plugin's
    /// in-memory state is lost. On failure the old instance stays.
    ///
    /// Fuel after a restart is the builder's initial fuel
    /// ([`PluginBuilder::fuel`]), not what was left; the timeout is the
    /// latest one set. The checkpoint ([`Plugin::checkpoint`]) and the
    /// restart count are kept, but this restart does not restore the
    /// checkpoint: call [`Plugin::restore_state`] with
    /// [`Plugin::last_checkpoint`] for that.
    pub fn restart(&mut self) -> Result<()> {
        let engine = self.store.engine().clone();
        let fresh = Plugin::start(&engine, self.module.clone(), self.settings.clone())?;
        let recovery = std::mem::take(&mut self.recovery);
        *self = fresh;
        self.recovery = recovery;
        Ok(())
    }

    /// After a trap poisoned the plugin: restarts it if its policy allows,
    /// restoring the checkpoint under [`RestartPolicy::keep_state`]. When
    /// it does not restart, the poisoned cause says why.
    #[cold]
    fn restart_after_trap(&mut self) {
        let policy = self.settings.restart;
        let cause = self.poisoned.clone().unwrap_or_default();
        if let Err(why) = self.recovery.admit(&policy, std::time::Instant::now()) {
            if !why.is_empty() {
                self.poisoned = Some(format!("{cause}; {why}"));
            }
            return;
        }
        let checkpoint = if policy.keeps_state() { self.recovery.checkpoint.clone() } else { None };
        // A trap while restoring must not restart again from inside this
        // restart: the policy is suspended until the restore is done.
        let outcome = self.restart().and_then(|()| {
            self.settings.restart = RestartPolicy::NEVER;
            let restored = match &checkpoint {
                Some(state) => self.restore_state(state),
                None => Ok(()),
            };
            self.settings.restart = policy;
            restored
        });
        if let Err(e) = outcome {
            let first = e.to_string().lines().next().unwrap_or_default().to_string();
            self.poisoned = Some(format!("{cause}; the automatic restart failed: {first}"));
        }
    }

    /// Runs `f`, turning a trap into a poisoned plugin and a reported
    /// panic message into [`Error::Panic`].
    fn guarded<R>(&mut self, f: impl FnOnce(&mut Plugin) -> Result<R>) -> Result<R> {
        if self.poisoned.is_some() {
            return Err(self.poisoned_error());
        }
        self.store.data_mut().panic = None;
        f(self).map_err(|e| self.failed(e))
    }

    /// The error for a call to a poisoned plugin.
    #[cold]
    pub(crate) fn poisoned_error(&self) -> Error {
        let cause = self.poisoned.clone().unwrap_or_default();
        Error::Poisoned { plugin: self.name().to_string(), cause }
    }

    /// What a failed call returns; a trap poisons the plugin.
    #[cold]
    #[inline(never)]
    pub(crate) fn failed(&mut self, e: Error) -> Error {
        match e {
            e @ Error::Trap(_) => {
                let err = self.with_panic_message(e);
                self.poisoned = Some(poison_cause(&err));
                if self.settings.restart.restarts() {
                    self.restart_after_trap();
                }
                err
            }
            e => e,
        }
    }

    /// A trap, as [`Error::Panic`] when the plugin reported a panic
    /// message before it.
    fn with_panic_message(&mut self, e: Error) -> Error {
        let Error::Trap(trap) = e else { return e };
        match self.store.data_mut().panic.take() {
            Some(message) => {
                Error::Panic { plugin: self.name().to_string(), message, trap: Box::new(trap) }
            }
            None => Error::Trap(trap),
        }
    }

    /// Copies `bytes` into a fresh plugin buffer; returns its address and
    /// length (the plugin takes ownership).
    fn write_input(&mut self, bytes: &[u8]) -> Result<(i32, i32)> {
        let len = i32::try_from(bytes.len()).map_err(|_| {
            Error::Wire(format!("a {} byte value is too large for a plugin", bytes.len()))
        })?;
        let ptr = self.guest.alloc.call(&mut self.store, len)?;
        if ptr == 0 {
            return Err(Error::Limit(format!(
                "plugin `{}` could not allocate {len} bytes for a value",
                self.name()
            )));
        }
        self.guest.memory.write(&mut self.store, ptr as u32 as usize, bytes).map_err(|_| {
            Error::Wire(format!(
                "plugin `{}` returned an out-of-bounds buffer for {len} bytes",
                self.name()
            ))
        })?;
        Ok((ptr, len))
    }
}

/// Why a plugin is poisoned, in a line that does not repeat its name.
fn poison_cause(e: &Error) -> String {
    match e {
        Error::Panic { message, .. } => format!("it panicked: {message}"),
        e => e.to_string().lines().next().unwrap_or_default().to_string(),
    }
}

/// A timeout too long to compute a deadline from is none.
fn usable_timeout(timeout: Option<Duration>) -> Option<Duration> {
    timeout.filter(|t| *t < MAX_TIMEOUT)
}

/// Why a buffer the plugin named could not be read.
pub(crate) enum BufferError {
    /// Outside the plugin's memory.
    OutOfBounds,
    /// Longer than [`WireLimits::max_message`] (but inside the memory).
    TooLarge,
}

/// The `len` bytes at `ptr` in a plugin's memory `data`, checked against
/// the memory's size (in 64-bit arithmetic) and the message limit before
/// anything is allocated for them.
pub(crate) fn guest_buffer(
    data: &[u8],
    ptr: u32,
    len: u32,
    max: u32,
) -> std::result::Result<&[u8], BufferError> {
    let range = crate::runtime::range::checked_range(ptr.into(), len.into(), data.len() as u64)
        .ok_or(BufferError::OutOfBounds)?;
    if len > max {
        return Err(BufferError::TooLarge);
    }
    Ok(&data[range])
}

/// Finds the SDK's exports in a fresh instance.
fn guest_abi(store: &Store<PluginData>, instance: &Instance, name: &str) -> Result<GuestAbi> {
    let missing = |what: &str| {
        Error::Link(format!(
            "plugin `{name}` has no {what}: it was not built with the Scion SDK (scion_sdk::plugin)"
        ))
    };
    let memory =
        instance.get_memory(store, "memory").ok_or_else(|| missing("exported memory `memory`"))?;
    let alloc = instance
        .get_typed_func::<i32, i32>(store, abi::ALLOC_EXPORT)
        .map_err(|_| missing("`scion_alloc` export of type (i32) -> i32"))?;
    let free = instance
        .get_typed_func::<(i32, i32), ()>(store, abi::FREE_EXPORT)
        .map_err(|_| missing("`scion_free` export of type (i32, i32) -> ()"))?;
    Ok(GuestAbi { memory, alloc, free })
}
