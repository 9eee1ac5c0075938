//! The error type of the public API.

use crate::compiler::CompileError;
use crate::runtime::trap::Trap;
use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong loading, linking or running a plugin.
///
/// Load-time failures ([`Error::Compile`], [`Error::Io`], [`Error::Link`],
/// [`Error::Limit`]) are distinct from a running plugin's [`Error::Trap`].
///
/// `Debug` prints the same message as `Display`, so that `main` returning
/// this error shows the message once, without a repeated prefix.
pub enum Error {
    /// The wasm input is malformed, invalid, or uses an unsupported feature.
    Compile {
        /// The file, when the module came from one.
        path: Option<PathBuf>,
        /// What is wrong and where.
        error: CompileError,
    },
    /// Reading a file or writing the artifact cache failed.
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An import is missing or has the wrong type, or a value of the wrong
    /// type was passed.
    Link(String),
    /// A configured limit was exceeded (memory, table elements, ...).
    Limit(String),
    /// The plugin trapped.
    Trap(Trap),
    /// A plugin panicked: its panic message, and the trap that ended it.
    Panic {
        /// The plugin's name.
        plugin: String,
        /// The panic message the plugin reported (with its source location).
        message: String,
        /// The trap (kind, function, wasm offset, backtrace).
        trap: Box<Trap>,
    },
    /// A plugin's interface schema does not match the host's, or its schema
    /// section is malformed.
    Schema(String),
    /// A value crossing the host/plugin boundary could not be encoded or
    /// decoded.
    Wire(String),
    /// A plugin's initialisation failed (e.g. it rejected its configuration).
    Init {
        /// The plugin's name.
        plugin: String,
        /// Why, as the plugin reported it.
        message: String,
    },
    /// The plugin trapped in an earlier call, so its state cannot be
    /// trusted; restart or reload it.
    Poisoned {
        /// The plugin's name.
        plugin: String,
        /// The earlier failure.
        cause: String,
    },
    /// A host-side usage error (wrong store, wrong signature, ...).
    Usage(String),
    /// The engine cannot run on this machine or with this configuration.
    Unsupported(String),
}

impl Error {
    /// The trap, if this error is one.
    pub fn as_trap(&self) -> Option<&Trap> {
        match self {
            Error::Trap(t) => Some(t),
            Error::Panic { trap, .. } => Some(trap),
            _ => None,
        }
    }

    /// Whether the error happened while loading, compiling or linking (as
    /// opposed to while running the plugin).
    pub fn is_load_error(&self) -> bool {
        matches!(
            self,
            Error::Compile { .. }
                | Error::Io { .. }
                | Error::Link(_)
                | Error::Limit(_)
                | Error::Schema(_)
                | Error::Init { .. }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A module over the compile budget is valid, just too big.
            Error::Compile { path, error } => {
                let what = if error.budget_exceeded { "module refused" } else { "invalid module" };
                match path {
                    Some(p) => write!(f, "{what} {}: {error}", p.display()),
                    None => write!(f, "{what}: {error}"),
                }
            }
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Link(m) => write!(f, "link error: {m}"),
            Error::Limit(m) => write!(f, "limit exceeded: {m}"),
            Error::Trap(t) => write!(f, "{t}"),
            Error::Panic { plugin, message, trap } => {
                write!(f, "plugin `{plugin}` panicked: {message}\n{trap}")
            }
            Error::Schema(m) => write!(f, "schema mismatch: {m}"),
            Error::Wire(m) => write!(f, "bad value at the plugin boundary: {m}"),
            Error::Init { plugin, message } => {
                write!(f, "plugin `{plugin}` failed to initialise: {message}")
            }
            Error::Poisoned { plugin, cause } => write!(
                f,
                "plugin `{plugin}` failed earlier and must be restarted or reloaded: {cause}"
            ),
            Error::Usage(m) => write!(f, "{m}"),
            Error::Unsupported(m) => write!(f, "unsupported: {m}"),
        }
    }
}

impl fmt::Debug for Error {
    /// The same as `Display`: `main` returning an error prints it with
    /// `Debug`, and the message already says what kind of error it is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Compile { error, .. } => Some(error),
            Error::Trap(t) => {
                t.host_error.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
            }
            _ => None,
        }
    }
}

impl From<scion_sdk::wire::WireError> for Error {
    fn from(e: scion_sdk::wire::WireError) -> Error {
        Error::Wire(e.0)
    }
}

impl From<Trap> for Error {
    fn from(t: Trap) -> Error {
        Error::Trap(t)
    }
}

/// `Result` with Scion's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
