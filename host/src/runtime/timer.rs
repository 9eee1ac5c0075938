//! Call deadlines: one process-wide thread sets a store's interrupt flag
//! when its running call overruns.
//!
//! A call with a timeout only writes its deadline into its own store
//! ([`SharedVm::deadline`]) and clears it when it returns: no lock, no
//! allocation and no system call per call, so calls on many threads do
//! not meet here. The thread looks at every store that ever armed a
//! deadline (each joins a registry once, under a lock) every [`TICK`],
//! and sleeps while no deadline is armed; a call that arms one while it
//! sleeps wakes it.

use super::store::SharedVm;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// How often the thread looks at armed deadlines: a call that overruns is
/// interrupted at most this much after its deadline (plus scheduling).
const TICK: Duration = Duration::from_millis(1);

/// How long the thread goes on ticking after the last armed deadline it
/// saw before it sleeps (so back-to-back calls do not wake it each time).
const LINGER: Duration = Duration::from_millis(50);

struct Timer {
    /// Every store that armed a deadline and may still exist.
    stores: Mutex<Vec<Weak<SharedVm>>>,
    /// Set by the thread before it sleeps (under `stores`' lock).
    sleeping: AtomicBool,
    wake: Condvar,
    /// The time deadlines count from.
    epoch: Instant,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let t: &'static Timer = Box::leak(Box::new(Timer {
            stores: Mutex::new(Vec::new()),
            sleeping: AtomicBool::new(false),
            wake: Condvar::new(),
            epoch: Instant::now(),
        }));
        std::thread::Builder::new()
            .name("scion-deadlines".into())
            .spawn(move || run(t))
            .expect("starting the deadline thread");
        t
    })
}

impl Timer {
    /// Nanoseconds since the epoch, never 0 (which means "no deadline").
    fn now(&self) -> u64 {
        let ns = Instant::now().saturating_duration_since(self.epoch).as_nanos();
        u64::try_from(ns).unwrap_or(u64::MAX).max(1)
    }
}

/// Interrupts every store whose armed deadline has passed; whether any
/// deadline is armed. Drops stores that are gone.
fn sweep(stores: &mut Vec<Weak<SharedVm>>, now: u64) -> bool {
    let mut armed = false;
    stores.retain(|weak| {
        let Some(vm) = weak.upgrade() else { return false };
        let at = vm.deadline().load(Ordering::SeqCst);
        if at != 0 {
            armed = true;
            if at <= now {
                vm.interrupt_flag().store(1, Ordering::SeqCst);
            }
        }
        true
    });
    armed
}

fn run(t: &'static Timer) {
    let mut last_armed = Instant::now();
    loop {
        std::thread::sleep(TICK);
        let mut stores = t.stores.lock().unwrap_or_else(|p| p.into_inner());
        if sweep(&mut stores, t.now()) {
            last_armed = Instant::now();
            continue;
        }
        if last_armed.elapsed() < LINGER {
            continue;
        }
        // Announce the sleep, then look again: a call that armed its
        // deadline before it could see the flag is found here; one that
        // arms later sees the flag and wakes the thread (under the lock,
        // so not before the wait begins).
        t.sleeping.store(true, Ordering::SeqCst);
        while !sweep(&mut stores, t.now()) {
            stores = t.wake.wait(stores).unwrap_or_else(|p| p.into_inner());
        }
        t.sleeping.store(false, Ordering::SeqCst);
        last_armed = Instant::now();
    }
}

/// A store's place among the watched ones: made once per store, the
/// first time one of its calls has a timeout.
pub(crate) fn register(vm: &Arc<SharedVm>) {
    let t = timer();
    t.stores.lock().unwrap_or_else(|p| p.into_inner()).push(Arc::downgrade(vm));
}

/// An armed deadline; dropping it disarms it.
pub(crate) struct Deadline(Arc<SharedVm>);

impl Drop for Deadline {
    fn drop(&mut self) {
        self.0.deadline().store(0, Ordering::SeqCst);
    }
}

/// Interrupts the store behind `vm` (which must be [`register`]ed) once
/// `timeout` has passed, unless the returned deadline is dropped first. A
/// timeout too long to be a point in time is no deadline.
pub(crate) fn arm(timeout: Duration, vm: Arc<SharedVm>) -> Option<Deadline> {
    let t = timer();
    let at = t.now().checked_add(u64::try_from(timeout.as_nanos()).ok()?)?;
    vm.deadline().store(at, Ordering::SeqCst);
    if t.sleeping.load(Ordering::SeqCst) {
        let _stores = t.stores.lock().unwrap_or_else(|p| p.into_inner());
        t.wake.notify_one();
    }
    Some(Deadline(vm))
}
