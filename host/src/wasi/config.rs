//! `WasiConfig`: what a WASI program is granted. Nothing is granted
//! unless the host says so.

use super::ctx::WasiCtx;
use crate::{Error, Result};

use parking_lot::Mutex;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What a preopened directory allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirPerms {
    /// Files and directories under it can be read, listed and stat'ed;
    /// nothing can be created, written, renamed, removed or have its
    /// times set.
    ReadOnly,
    /// Everything under it can be read and changed.
    ReadWrite,
}

/// Where a program's standard input comes from.
#[derive(Clone, Debug, Default)]
pub enum Input {
    /// Reads see end of file at once (the default).
    #[default]
    Null,
    /// The host process's own standard input.
    Inherit,
    /// These bytes, then end of file.
    Bytes(Arc<[u8]>),
}

/// Where a program's standard output or error goes.
#[derive(Clone, Debug, Default)]
pub enum Output {
    /// Written bytes are dropped (the default).
    #[default]
    Null,
    /// The host process's own stream.
    Inherit,
    /// Appended to a buffer the host reads.
    Capture(OutputBuffer),
}

/// A buffer that collects a program's output; clones share the buffer.
#[derive(Clone, Debug, Default)]
pub struct OutputBuffer(Arc<Mutex<Vec<u8>>>);

impl OutputBuffer {
    /// An empty buffer.
    pub fn new() -> OutputBuffer {
        OutputBuffer::default()
    }

    /// What was written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.0.lock().clone()
    }

    /// What was written so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }

    /// Takes what was written so far, leaving the buffer empty.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock())
    }

    pub(super) fn append(&self, bytes: &[u8]) {
        self.0.lock().extend_from_slice(bytes);
    }
}

/// The clocks a program reads.
#[derive(Clone, Copy, Debug, Default)]
pub enum Clock {
    /// The host's clocks (the default).
    #[default]
    Real,
    /// A deterministic clock for replay and tests: the wall clock starts
    /// at `start` and the monotonic clock at zero; each reading of either
    /// advances both by `step`, and sleeps advance them by the time slept
    /// without waiting.
    Virtual {
        /// The wall-clock time of the first reading.
        start: SystemTime,
        /// How far each reading moves the clocks on.
        step: Duration,
    },
}

/// Where random bytes come from.
#[derive(Clone, Copy, Debug, Default)]
pub enum Random {
    /// The operating system's generator (the default).
    #[default]
    Os,
    /// A deterministic generator (ChaCha20) seeded with this value: the
    /// same seed gives the same bytes, for replay and tests.
    Seeded(u64),
}

/// A preopened directory: the host directory and the path the program
/// sees it under.
#[derive(Clone, Debug)]
pub(super) struct Preopen {
    /// Shared by the clones of a configuration; each program gets its
    /// own duplicate of the descriptor.
    pub dir: Arc<cap_std::fs::Dir>,
    pub guest_path: String,
    pub perms: DirPerms,
}

/// Default most file descriptors a program may have open at once
/// (standard streams and preopens included).
pub const DEFAULT_MAX_OPEN_FILES: u32 = 256;

/// What a WASI program is given: arguments, environment, preopened
/// directories, standard streams, clocks, randomness and a limit on open
/// files.
///
/// `WasiConfig::new()` grants nothing: no arguments, no environment, no
/// directories, standard input empty, standard output and error
/// discarded. The clocks and the random generator are the host's unless
/// set to deterministic ones.
///
/// ```no_run
/// use scion::wasi::{DirPerms, Output, OutputBuffer, WasiConfig};
/// let out = OutputBuffer::new();
/// let wasi = WasiConfig::new()
///     .arg("report")
///     .env("LANG", "C")
///     .preopen_dir("data", "/data", DirPerms::ReadOnly)?
///     .preopen_dir("out", "/out", DirPerms::ReadWrite)?
///     .stdout(Output::Capture(out.clone()));
/// # Ok::<(), scion::Error>(())
/// ```
///
/// A configuration can be cloned: a plugin keeps one to give each
/// restart and reload the same grants, and each program built from it
/// starts with its own descriptors.
#[derive(Clone, Debug)]
pub struct WasiConfig {
    pub(super) args: Vec<String>,
    pub(super) env: Vec<(String, String)>,
    pub(super) preopens: Vec<Preopen>,
    pub(super) stdin: Input,
    pub(super) stdout: Output,
    pub(super) stderr: Output,
    pub(super) clock: Clock,
    pub(super) random: Random,
    pub(super) max_open_files: u32,
}

impl Default for WasiConfig {
    fn default() -> Self {
        WasiConfig::new()
    }
}

impl WasiConfig {
    /// A configuration that grants nothing.
    pub fn new() -> WasiConfig {
        WasiConfig {
            args: Vec::new(),
            env: Vec::new(),
            preopens: Vec::new(),
            stdin: Input::Null,
            stdout: Output::Null,
            stderr: Output::Null,
            clock: Clock::Real,
            random: Random::Os,
            max_open_files: DEFAULT_MAX_OPEN_FILES,
        }
    }

    /// Adds an argument (the first is the program's name by convention).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Grants the host directory `host` to the program as `guest` (e.g.
    /// `/data` or `.`). Paths under it resolve inside it only: `..`,
    /// absolute paths and symbolic links cannot leave it.
    pub fn preopen_dir(
        mut self,
        host: impl AsRef<Path>,
        guest: impl Into<String>,
        perms: DirPerms,
    ) -> Result<Self> {
        let host = host.as_ref();
        let dir = cap_std::fs::Dir::open_ambient_dir(host, cap_std::ambient_authority())
            .map_err(|source| Error::Io { path: host.to_path_buf(), source })?;
        self.preopens.push(Preopen { dir: Arc::new(dir), guest_path: guest.into(), perms });
        Ok(self)
    }

    /// Where standard input comes from.
    pub fn stdin(mut self, input: Input) -> Self {
        self.stdin = input;
        self
    }

    /// Where standard output goes.
    pub fn stdout(mut self, output: Output) -> Self {
        self.stdout = output;
        self
    }

    /// Where standard error goes.
    pub fn stderr(mut self, output: Output) -> Self {
        self.stderr = output;
        self
    }

    /// Standard input, output and error of the host process.
    pub fn inherit_stdio(self) -> Self {
        self.stdin(Input::Inherit).stdout(Output::Inherit).stderr(Output::Inherit)
    }

    /// The clocks.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The random generator.
    pub fn random(mut self, random: Random) -> Self {
        self.random = random;
        self
    }

    /// Most file descriptors open at once (standard streams and preopens
    /// included); opening more fails with `EMFILE`.
    pub fn max_open_files(mut self, n: u32) -> Self {
        self.max_open_files = n;
        self
    }

    /// The state a program runs with.
    pub fn build(&self) -> Result<WasiCtx> {
        WasiCtx::new(self.clone())
    }
}
