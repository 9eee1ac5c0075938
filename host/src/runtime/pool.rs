//! The engine's pool of idle memory reservations.
//!
//! Reserving, committing and unmapping address space are the bulk of what
//! instantiating and dropping a small instance cost, and `mmap`/`munmap`
//! take the process's address-space lock for writing. So when a store is
//! dropped, each memory's reservation is reset (`Reservation::reset`: one
//! `madvise`, and an `mprotect` if it grew) and kept here, its image still
//! mapped; the next memory that fits takes it, preferring one that holds
//! its own module's image, which then needs no system call at all.
//!
//! Bounded: at most `max_idle` reservations of at most `max_reservation`
//! bytes each are kept; beyond that they are unmapped as without a pool.
//! The pool is a cache, not a cap: when no idle reservation fits, a memory
//! gets a fresh one, so instantiation never fails or waits because of it.
//!
//! The lock is held only to push or to pick among the last
//! [`SEARCH`] entries; resets and unmappings happen outside it.

use super::reservation::Reservation;
use parking_lot::Mutex;

/// How many of the most recently released reservations `take` considers.
const SEARCH: usize = 8;

/// Idle reservations of one engine.
pub(crate) struct MemoryPool {
    idle: Mutex<Vec<Reservation>>,
    max_idle: usize,
    max_reservation: usize,
}

impl MemoryPool {
    /// A pool keeping at most `max_idle` reservations of at most
    /// `max_reservation` bytes.
    pub fn new(max_idle: usize, max_reservation: usize) -> MemoryPool {
        MemoryPool { idle: Mutex::new(Vec::new()), max_idle, max_reservation }
    }

    /// An idle reservation of at least `len` bytes, preferring one with
    /// image `image` mapped; `None` when none fits. The caller must bring
    /// its image and accessible range to what it needs.
    pub fn take(&self, len: usize, image: Option<u64>) -> Option<Reservation> {
        let mut idle = self.idle.lock();
        let from = idle.len().saturating_sub(SEARCH);
        let mut pick = None;
        for i in (from..idle.len()).rev() {
            let r = &idle[i];
            if r.len() < len {
                continue;
            }
            if image.is_some() && r.image().map(|m| m.id) == image {
                pick = Some(i);
                break;
            }
            pick = pick.or(Some(i));
        }
        pick.map(|i| idle.swap_remove(i))
    }

    /// Keeps `r`, reset to `keep` accessible bytes, for a later memory;
    /// unmaps it when it is too large, cannot be reset or the pool is full.
    pub fn give(&self, mut r: Reservation, keep: usize) {
        if r.len() > self.max_reservation || self.max_idle == 0 {
            return;
        }
        if let Err(e) = r.reset(keep) {
            log::debug!("memory not pooled: {e}");
            return;
        }
        let mut idle = self.idle.lock();
        if idle.len() < self.max_idle {
            idle.push(r);
            return;
        }
        drop(idle);
        // `r` is unmapped here, outside the lock.
    }

    /// The number of idle reservations (for tests).
    pub fn idle(&self) -> usize {
        self.idle.lock().len()
    }
}
