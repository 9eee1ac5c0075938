//! `WasiCtx`: a program's WASI state — its descriptors, arguments,
//! environment, clocks and random generator.

use super::config::{Clock, DirPerms, Random, WasiConfig};
use super::errno::{Errno, WasiResult};
use super::fs::{Desc, DirDesc, Stream};
use crate::Result;
use rand_core::{RngCore, SeedableRng};
use std::time::{Duration, Instant, SystemTime};

/// The WASI state of one program: keep it in the store's data and give
/// [`add_to_linker`](super::add_to_linker) a function that finds it.
pub struct WasiCtx {
    pub(super) args: Vec<String>,
    pub(super) env: Vec<(String, String)>,
    pub(super) fds: FdTable,
    pub(super) clock: ClockState,
    random: RandomState,
}

impl std::fmt::Debug for WasiCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiCtx")
            .field("args", &self.args)
            .field("open_fds", &self.fds.open())
            .finish_non_exhaustive()
    }
}

impl WasiCtx {
    pub(super) fn new(config: WasiConfig) -> Result<WasiCtx> {
        let mut fds = FdTable { slots: Vec::new(), max: config.max_open_files.max(3) };
        let streams = [
            Stream::Stdin { input: config.stdin, pos: 0 },
            Stream::Stdout(config.stdout),
            Stream::Stderr(config.stderr),
        ];
        for s in streams {
            fds.slots.push(Some(Desc::Stream(s)));
        }
        for p in config.preopens {
            let dir = p.dir.try_clone().map_err(|e| {
                crate::Error::Limit(format!(
                    "cannot duplicate the descriptor of preopened directory `{}`: {e}",
                    p.guest_path
                ))
            })?;
            let all = super::fs::rights::DIR | super::fs::rights::FILE;
            let desc = Desc::Dir(DirDesc::new(dir, Some(p.guest_path), p.perms, all, all));
            fds.insert(desc).map_err(|_| {
                crate::Error::Limit(format!(
                    "more preopened directories than the limit of {} open files \
                     (WasiConfig::max_open_files)",
                    fds.max
                ))
            })?;
        }
        let random = match config.random {
            Random::Os => RandomState::Os,
            Random::Seeded(seed) => {
                RandomState::Seeded(Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(seed)))
            }
        };
        let clock = match config.clock {
            Clock::Real => ClockState::Real { start: Instant::now() },
            Clock::Virtual { start, step } => ClockState::Virtual { wall: start, mono: 0, step },
        };
        Ok(WasiCtx { args: config.args, env: config.env, fds, clock, random })
    }

    /// The state of [`WasiConfig::new()`], which cannot fail to build.
    pub fn empty() -> WasiCtx {
        let mut fds = FdTable { slots: Vec::new(), max: super::config::DEFAULT_MAX_OPEN_FILES };
        for s in [
            Stream::Stdin { input: super::config::Input::Null, pos: 0 },
            Stream::Stdout(super::config::Output::Null),
            Stream::Stderr(super::config::Output::Null),
        ] {
            fds.slots.push(Some(Desc::Stream(s)));
        }
        WasiCtx {
            args: Vec::new(),
            env: Vec::new(),
            fds,
            clock: ClockState::Real { start: Instant::now() },
            random: RandomState::Os,
        }
    }

    /// Fills `buf` with random bytes.
    pub(super) fn random_fill(&mut self, buf: &mut [u8]) -> WasiResult<()> {
        match &mut self.random {
            RandomState::Os => getrandom::getrandom(buf).map_err(|_| Errno::IO),
            RandomState::Seeded(rng) => {
                rng.fill_bytes(buf);
                Ok(())
            }
        }
    }
}

/// The source of random bytes.
enum RandomState {
    Os,
    Seeded(Box<rand_chacha::ChaCha20Rng>),
}

/// The clocks as the program sees them.
pub(super) enum ClockState {
    Real { start: Instant },
    Virtual { wall: SystemTime, mono: u64, step: Duration },
}

/// WASI clock ids.
pub(super) const CLOCK_REALTIME: u32 = 0;
pub(super) const CLOCK_MONOTONIC: u32 = 1;
pub(super) const CLOCK_PROCESS_CPUTIME: u32 = 2;
pub(super) const CLOCK_THREAD_CPUTIME: u32 = 3;

impl ClockState {
    /// Reads clock `id`, in nanoseconds.
    pub fn now(&mut self, id: u32) -> WasiResult<u64> {
        match self {
            ClockState::Real { start } => match id {
                CLOCK_REALTIME => {
                    let d = SystemTime::now()
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map_err(|_| Errno::OVERFLOW)?;
                    u64::try_from(d.as_nanos()).map_err(|_| Errno::OVERFLOW)
                }
                CLOCK_MONOTONIC | CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME => {
                    u64::try_from(start.elapsed().as_nanos()).map_err(|_| Errno::OVERFLOW)
                }
                _ => Err(Errno::INVAL),
            },
            ClockState::Virtual { wall, mono, step } => {
                let reading = match id {
                    CLOCK_REALTIME => wall
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .ok()
                        .and_then(|d| u64::try_from(d.as_nanos()).ok())
                        .ok_or(Errno::OVERFLOW)?,
                    CLOCK_MONOTONIC | CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME => *mono,
                    _ => return Err(Errno::INVAL),
                };
                let step = *step;
                self.advance(step);
                Ok(reading)
            }
        }
    }

    /// The resolution of clock `id`, in nanoseconds.
    pub fn resolution(&self, id: u32) -> WasiResult<u64> {
        match id {
            CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME => {
                Ok(1)
            }
            _ => Err(Errno::INVAL),
        }
    }

    /// Whether sleeps wait for real time.
    pub fn is_real(&self) -> bool {
        matches!(self, ClockState::Real { .. })
    }

    /// Moves a virtual clock on by `d` (a sleep that does not wait).
    pub fn advance(&mut self, d: Duration) {
        if let ClockState::Virtual { wall, mono, .. } = self {
            *wall = wall.checked_add(d).unwrap_or(*wall);
            *mono = mono.saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        }
    }
}

/// A program's descriptors, by number; bounded by the configured limit.
pub(super) struct FdTable {
    slots: Vec<Option<Desc>>,
    max: u32,
}

impl FdTable {
    /// How many descriptors are open.
    pub fn open(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Adds a descriptor at the lowest free number (`EMFILE` past the
    /// limit).
    pub fn insert(&mut self, desc: Desc) -> WasiResult<u32> {
        if self.open() >= self.max as usize {
            return Err(Errno::MFILE);
        }
        if let Some(i) = self.slots.iter().position(Option::is_none) {
            self.slots[i] = Some(desc);
            return Ok(i as u32);
        }
        self.slots.push(Some(desc));
        Ok(self.slots.len() as u32 - 1)
    }

    pub fn get(&self, fd: u32) -> WasiResult<&Desc> {
        self.slots.get(fd as usize).and_then(Option::as_ref).ok_or(Errno::BADF)
    }

    pub fn get_mut(&mut self, fd: u32) -> WasiResult<&mut Desc> {
        self.slots.get_mut(fd as usize).and_then(Option::as_mut).ok_or(Errno::BADF)
    }

    /// Removes descriptor `fd`.
    pub fn remove(&mut self, fd: u32) -> WasiResult<Desc> {
        self.slots.get_mut(fd as usize).and_then(Option::take).ok_or(Errno::BADF)
    }

    /// `fd_renumber`: moves `from` to `to`, closing what `to` was.
    pub fn renumber(&mut self, from: u32, to: u32) -> WasiResult<()> {
        self.get(from)?;
        self.get(to)?;
        if from == to {
            return Ok(());
        }
        let desc = self.remove(from)?;
        self.slots[to as usize] = Some(desc);
        Ok(())
    }
}

/// Whether a directory's permissions allow changing what is under it.
pub(super) fn writable(perms: DirPerms) -> bool {
    perms == DirPerms::ReadWrite
}
