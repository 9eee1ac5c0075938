//! Restarting a plugin automatically after a trap ([`RestartPolicy`]).
//!
//! A trap leaves the plugin's memory in whatever state the failing call
//! left it, so the instance is never reused: a restart builds a fresh one
//! from the same module and settings. What the fresh instance can keep is
//! the last state the plugin saved while it was healthy (its checkpoint),
//! never the state at the time of the trap.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// When a plugin that trapped is restarted without the host asking
/// ([`crate::PluginBuilder::restart_policy`]).
///
/// The call that trapped still returns its error; the restart happens
/// before that error is returned, so the next call runs on a fresh
/// instance. Past `max_restarts` restarts within `period`, the plugin stays
/// poisoned ([`crate::Error::Poisoned`]) until the host restarts or
/// reloads it: a plugin that traps on every call does not spin forever.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartPolicy {
    max_restarts: u32,
    period: Duration,
    keep_state: bool,
}

impl Default for RestartPolicy {
    fn default() -> RestartPolicy {
        RestartPolicy::NEVER
    }
}

impl RestartPolicy {
    /// Never restart automatically (the default): a trap poisons the
    /// plugin until [`crate::Plugin::restart`] or a reload.
    pub const NEVER: RestartPolicy =
        RestartPolicy { max_restarts: 0, period: Duration::ZERO, keep_state: false };

    /// Restart after a trap, at most `max_restarts` times within any
    /// window of `period`.
    pub fn on_trap(max_restarts: u32, period: Duration) -> RestartPolicy {
        RestartPolicy { max_restarts, period, keep_state: false }
    }

    /// Give the fresh instance the plugin's checkpoint, when it has one:
    /// the state last saved by [`crate::Plugin::checkpoint`] or restored
    /// (by [`crate::Plugin::restore_state`], a reload or an earlier
    /// restart). Without a checkpoint, or without this, the fresh instance
    /// starts from its configuration.
    pub fn keep_state(mut self) -> RestartPolicy {
        self.keep_state = true;
        self
    }

    /// Whether restarts restore the checkpoint.
    pub fn keeps_state(&self) -> bool {
        self.keep_state
    }

    /// Whether this policy ever restarts.
    pub fn restarts(&self) -> bool {
        self.max_restarts > 0
    }
}

/// What a plugin remembers across its restarts.
#[derive(Default)]
pub(crate) struct Recovery {
    /// When the automatic restarts within the current window happened.
    recent: VecDeque<Instant>,
    /// Automatic restarts since the plugin was built.
    pub(crate) count: u64,
    /// The state a restart restores under [`RestartPolicy::keep_state`].
    pub(crate) checkpoint: Option<Vec<u8>>,
}

impl Recovery {
    /// Records a restart at `now` if `policy` allows one; `Err` says why
    /// not.
    pub(crate) fn admit(&mut self, policy: &RestartPolicy, now: Instant) -> Result<(), String> {
        if !policy.restarts() {
            return Err(String::new());
        }
        while self.recent.front().is_some_and(|t| now.duration_since(*t) >= policy.period) {
            self.recent.pop_front();
        }
        if self.recent.len() >= policy.max_restarts as usize {
            return Err(format!(
                "not restarted: {} automatic restarts within {:?} already",
                self.recent.len(),
                policy.period
            ));
        }
        self.recent.push_back(now);
        self.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_are_counted_within_the_period_only() {
        let policy = RestartPolicy::on_trap(2, Duration::from_secs(10));
        let mut r = Recovery::default();
        let t0 = Instant::now();
        assert!(r.admit(&policy, t0).is_ok());
        assert!(r.admit(&policy, t0 + Duration::from_secs(1)).is_ok());
        let refused = r.admit(&policy, t0 + Duration::from_secs(2)).unwrap_err();
        assert!(refused.contains("2 automatic restarts"), "{refused}");
        // The first restart leaves the window at t0 + 10 s exactly.
        assert!(r.admit(&policy, t0 + Duration::from_secs(10)).is_ok());
        assert!(r.admit(&policy, t0 + Duration::from_secs(10)).is_err());
        assert_eq!(r.count, 3);
    }

    #[test]
    fn the_default_never_restarts() {
        let mut r = Recovery::default();
        assert!(r.admit(&RestartPolicy::default(), Instant::now()).is_err());
        assert_eq!(r.count, 0);
    }
}
