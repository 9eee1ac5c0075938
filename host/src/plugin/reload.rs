//! Hot reload: a [`PluginHandle`] serves calls from the current version of
//! a plugin while a new version is compiled, instantiated, checked and
//! initialised elsewhere; it swaps versions between calls, carrying the
//! plugin's state across.
//!
//! Calls lock a version ([`PluginHandle::lock`]). A reload holds the old
//! version's lock only while it saves the state, restores it into the new
//! version and swaps: calls in flight finish on the version they started
//! on, and calls that were waiting move on to the new one (they notice the
//! old one was retired). The old version's code is unloaded (`dlclose`)
//! when the last call using it ends.

use super::{Plugin, Settings};
use crate::{Engine, Error, Module, Result};
use parking_lot::{Mutex, RwLock};
use scion_sdk::schema::InterfaceDesc;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

/// What to do when the new version cannot take the old one's state: its
/// state type differs, or it keeps no state at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatePolicy {
    /// Refuse the reload and keep the old version serving (the default):
    /// nothing is lost, and the failure is reported.
    #[default]
    KeepOld,
    /// Start the new version with fresh state (built from its
    /// configuration), dropping the old state.
    StartFresh,
}

/// What happened to a reload, sent to every [`PluginHandle::events`]
/// receiver.
#[derive(Clone, Debug)]
pub enum ReloadEvent {
    /// The new version serves.
    Reloaded {
        /// The version that served before.
        from: u64,
        /// The version now serving.
        to: u64,
        /// From new bytes in to the swap.
        elapsed: Duration,
        /// Whether the old version's state was carried over.
        state_carried: bool,
    },
    /// The reload failed; the old version keeps serving.
    Failed {
        /// The version still serving.
        serving: u64,
        /// Why.
        reason: String,
    },
}

/// One loaded version of a plugin.
pub(crate) struct Version {
    id: u64,
    plugin: Arc<Mutex<Plugin>>,
    /// Set (under the plugin lock) once a newer version took over.
    retired: AtomicBool,
}

struct Shared {
    engine: Engine,
    settings: Settings,
    current: RwLock<Arc<Version>>,
    next_id: AtomicU64,
    /// Serializes reloads (each one decides against the version it saw).
    reloading: Mutex<()>,
    policy: Mutex<StatePolicy>,
    /// Interfaces declared up front or checked by clients so far.
    interfaces: Mutex<Vec<&'static InterfaceDesc>>,
    subscribers: Mutex<Vec<Sender<ReloadEvent>>>,
    /// The file the plugin was loaded from, if any.
    path: Option<PathBuf>,
}

/// A plugin that can be reloaded while it serves calls. Cheap to clone
/// and `Send + Sync`: threads share one handle.
#[derive(Clone)]
pub struct PluginHandle {
    shared: Arc<Shared>,
}

/// Exclusive use of the current version for one or more calls; derefs to
/// [`Plugin`], so `FilterClient::new(&mut *guard)` works. A reload waits
/// for it to be dropped before swapping.
pub struct PluginGuard {
    version: Arc<Version>,
    plugin: parking_lot::ArcMutexGuard<parking_lot::RawMutex, Plugin>,
}

impl PluginGuard {
    /// The version this guard holds.
    pub fn version(&self) -> u64 {
        self.version.id
    }
}

impl std::ops::Deref for PluginGuard {
    type Target = Plugin;
    fn deref(&self) -> &Plugin {
        &self.plugin
    }
}

impl std::ops::DerefMut for PluginGuard {
    fn deref_mut(&mut self) -> &mut Plugin {
        &mut self.plugin
    }
}

impl PluginHandle {
    pub(super) fn new(
        engine: &Engine,
        settings: Settings,
        module: Module,
        path: Option<PathBuf>,
    ) -> Result<PluginHandle> {
        let plugin = Plugin::start(engine, module, settings.clone())?;
        let version = Arc::new(Version {
            id: 1,
            plugin: Arc::new(Mutex::new(plugin)),
            retired: AtomicBool::new(false),
        });
        Ok(PluginHandle {
            shared: Arc::new(Shared {
                engine: engine.clone(),
                settings,
                current: RwLock::new(version),
                next_id: AtomicU64::new(2),
                reloading: Mutex::new(()),
                policy: Mutex::new(StatePolicy::default()),
                interfaces: Mutex::new(Vec::new()),
                subscribers: Mutex::new(Vec::new()),
                path,
            }),
        })
    }

    /// Locks the current version for calls.
    pub fn lock(&self) -> PluginGuard {
        loop {
            let version = self.shared.current.read().clone();
            let plugin = version.plugin.lock_arc();
            if !version.retired.load(Ordering::Acquire) {
                return PluginGuard { version, plugin };
            }
            // A reload swapped while this call waited: use the new version.
        }
    }

    /// The version serving now (1 for the first, then counting up with
    /// each successful reload).
    pub fn version(&self) -> u64 {
        self.shared.current.read().id
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.shared.settings.name
    }

    /// The file the plugin was loaded from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.shared.path.as_deref()
    }

    /// Sets what happens when a new version's state type differs.
    pub fn set_state_policy(&self, policy: StatePolicy) {
        *self.shared.policy.lock() = policy;
    }

    /// Requires every later version to implement `interface` exactly (in
    /// addition to the interfaces clients have checked so far).
    pub fn expect_interface(&self, interface: &'static InterfaceDesc) {
        let mut list = self.shared.interfaces.lock();
        if !list.iter().any(|i| std::ptr::eq(*i, interface)) {
            list.push(interface);
        }
    }

    /// A receiver of reload events (each receiver gets every later event).
    pub fn events(&self) -> Receiver<ReloadEvent> {
        let (tx, rx) = channel();
        self.shared.subscribers.lock().push(tx);
        rx
    }

    fn emit(&self, event: ReloadEvent) {
        self.shared.subscribers.lock().retain(|s| s.send(event.clone()).is_ok());
    }

    /// Reloads from the file the plugin was loaded from.
    pub fn reload_file(&self) -> Result<u64> {
        let path = self.shared.path.clone().ok_or_else(|| {
            Error::Usage(format!("plugin `{}` was not loaded from a file", self.name()))
        })?;
        match std::fs::read(&path) {
            Ok(bytes) => self.reload(bytes),
            Err(source) => {
                let e = Error::Io { path, source };
                self.emit(ReloadEvent::Failed { serving: self.version(), reason: e.to_string() });
                Err(e)
            }
        }
    }

    /// Reloads from new wasm bytes on the calling thread (other threads keep
    /// calling the old version meanwhile). Returns the new version, or the
    /// reason the old one still serves; either way an event is sent.
    pub fn reload(&self, wasm: impl AsRef<[u8]>) -> Result<u64> {
        let start = Instant::now();
        let _one_at_a_time = self.shared.reloading.lock();
        let result = self.try_reload(wasm.as_ref(), start);
        match &result {
            Ok(event) => self.emit(event.clone()),
            Err(e) => {
                self.emit(ReloadEvent::Failed { serving: self.version(), reason: e.to_string() })
            }
        }
        result.map(|_| self.version())
    }

    /// [`PluginHandle::reload`] on a background thread; the outcome
    /// arrives as an event.
    pub fn reload_in_background(&self, wasm: Vec<u8>) -> std::thread::JoinHandle<Result<u64>> {
        let handle = self.clone();
        std::thread::spawn(move || handle.reload(wasm))
    }

    fn try_reload(&self, wasm: &[u8], start: Instant) -> Result<ReloadEvent> {
        let shared = &self.shared;
        let module = Module::from_bytes_at(&shared.engine, wasm, shared.path.as_deref())?;
        let mut new = Plugin::start(&shared.engine, module, shared.settings.clone())?;
        let old = shared.current.read().clone();

        // Lock the old version: calls in flight finish first, later ones
        // wait and then move to the new version.
        let mut old_plugin = old.plugin.lock();
        let mut expected: Vec<&'static InterfaceDesc> = shared.interfaces.lock().clone();
        for i in old_plugin.checked_interfaces() {
            if !expected.iter().any(|e| std::ptr::eq(*e, i)) {
                expected.push(i);
            }
        }
        for iface in &expected {
            scion_sdk::host::Transport::check(&mut new, iface)?;
        }
        *shared.interfaces.lock() = expected;

        let state_carried = self.carry_state(&mut old_plugin, &mut new)?;
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let version = Arc::new(Version {
            id,
            plugin: Arc::new(Mutex::new(new)),
            retired: AtomicBool::new(false),
        });
        *shared.current.write() = version;
        old.retired.store(true, Ordering::Release);
        drop(old_plugin);
        Ok(ReloadEvent::Reloaded { from: old.id, to: id, elapsed: start.elapsed(), state_carried })
    }

    /// Moves the old version's state into the new one; whether it did.
    /// Under [`StatePolicy::KeepOld`], a reload that would lose the old
    /// version's state (the new one has another state type, or none) is
    /// refused; a failure to save leaves the old version serving as it was.
    fn carry_state(&self, old: &mut Plugin, new: &mut Plugin) -> Result<bool> {
        let Some(old_ty) = &old.schema().state else { return Ok(false) };
        let policy = *self.shared.policy.lock();
        let refuse = |why: String| {
            Err(Error::Schema(format!(
                "plugin `{}`: {why}; keeping the old version (StatePolicy::StartFresh would drop \
                 the state instead)",
                self.name(),
            )))
        };
        let Some(new_ty) = &new.schema().state else {
            return match policy {
                StatePolicy::KeepOld => refuse(
                    "the new version keeps no state across reloads (it has no state record), so \
                     the old version's state would be lost"
                        .into(),
                ),
                StatePolicy::StartFresh => Ok(false),
            };
        };
        if let Some(diff) = scion_sdk::schema::diff_type("the state", old_ty, new_ty) {
            return match policy {
                StatePolicy::KeepOld => refuse(format!(
                    "the new version's state is incompatible ({})",
                    diff.replace("in the host", "in the old version")
                        .replace("in the plugin", "in the new one")
                )),
                StatePolicy::StartFresh => Ok(false),
            };
        }
        let saved = if let Some(cause) = old.poisoned() {
            // The old state may be half-updated: carry the checkpoint it
            // saved while it was healthy, if any, never its memory.
            let Some(checkpoint) = old.last_checkpoint() else {
                log::warn!(
                    "plugin `{}`: not carrying state from a version that failed ({cause})",
                    self.name()
                );
                return Ok(false);
            };
            Some(checkpoint.to_vec())
        } else {
            // Saving runs on the state budget, not on what is left of the
            // old version's fuel or deadline, and a failure does not poison
            // it.
            old.save_state().map_err(|e| Error::Init {
                plugin: self.name().to_string(),
                message: format!("saving the state of the serving version failed: {e}"),
            })?
        };
        let Some(state) = saved else {
            return match policy {
                StatePolicy::KeepOld => refuse(format!(
                    "the serving version declares a state but has no `{}` export",
                    scion_sdk::abi::SAVE_STATE_EXPORT
                )),
                StatePolicy::StartFresh => Ok(false),
            };
        };
        new.restore_state(&state).map_err(|e| match e {
            Error::Init { plugin, message } => {
                Error::Init { plugin, message: format!("restoring the state failed: {message}") }
            }
            other => other,
        })?;
        Ok(true)
    }

    /// Watches the plugin's file and reloads when it changes (in the
    /// background; outcomes arrive as events). Watching stops when the
    /// returned watcher is dropped.
    pub fn watch(&self) -> Result<super::watch::Watcher> {
        let path = self.shared.path.clone().ok_or_else(|| {
            Error::Usage(format!(
                "plugin `{}` was not loaded from a file: nothing to watch",
                self.name()
            ))
        })?;
        super::watch::Watcher::start(self.clone(), path)
    }
}

// A handle is shared between threads; the check keeps it that way.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<PluginHandle>();
};

impl std::fmt::Debug for PluginHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHandle")
            .field("name", &self.name())
            .field("version", &self.version())
            .finish()
    }
}
