//! Call deadlines: one process-wide thread sets a store's interrupt flag
//! when a call it watches overruns.

use super::store::SharedVm;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Instant;

struct Entry {
    at: Instant,
    vm: Arc<SharedVm>,
    cancelled: AtomicBool,
}

/// A pending deadline; dropping it cancels it.
pub(crate) struct Deadline(Arc<Entry>);

impl Drop for Deadline {
    fn drop(&mut self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
    }
}

struct Timer {
    entries: Mutex<Vec<Arc<Entry>>>,
    wake: Condvar,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let t: &'static Timer =
            Box::leak(Box::new(Timer { entries: Mutex::new(Vec::new()), wake: Condvar::new() }));
        std::thread::Builder::new()
            .name("scion-deadlines".into())
            .spawn(move || run(t))
            .expect("starting the deadline thread");
        t
    })
}

fn run(t: &'static Timer) {
    let mut entries = t.entries.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        entries.retain(|e| !e.cancelled.load(Ordering::SeqCst));
        let now = Instant::now();
        entries.retain(|e| {
            if e.at <= now {
                e.vm.interrupt_flag().store(1, Ordering::SeqCst);
                false
            } else {
                true
            }
        });
        entries = match entries.iter().map(|e| e.at).min() {
            None => t.wake.wait(entries).unwrap_or_else(|p| p.into_inner()),
            Some(next) => {
                let wait = next.saturating_duration_since(Instant::now());
                t.wake.wait_timeout(entries, wait).unwrap_or_else(|p| p.into_inner()).0
            }
        };
    }
}

/// Interrupts the store behind `vm` at `at` unless the returned deadline
/// is dropped first.
pub(crate) fn arm(at: Instant, vm: Arc<SharedVm>) -> Deadline {
    let entry = Arc::new(Entry { at, vm, cancelled: AtomicBool::new(false) });
    let t = timer();
    t.entries.lock().unwrap_or_else(|p| p.into_inner()).push(entry.clone());
    t.wake.notify_one();
    Deadline(entry)
}
