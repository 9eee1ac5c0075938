//! Traps as the host sees them: what happened and where.

pub use crate::contract::trap::TrapCode;
use std::fmt;

/// A place in the plugin's source code, from the DWARF line tables of a
/// plugin built with debug information.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLocation {
    /// The source file, as the plugin's compiler named it (`src/lib.rs`).
    pub file: String,
    /// The line, counting from 1.
    pub line: u32,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One wasm frame of a trap backtrace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Function index in its module.
    pub func_index: u32,
    /// Function name from the name section, if any.
    pub func_name: Option<String>,
    /// Name of the module, if it has one.
    pub module_name: Option<String>,
    /// Byte offset in the module of the instruction the frame is at: the
    /// trapping one for the innermost frame, the call for the others.
    pub wasm_offset: Option<u32>,
    /// Where that is in the plugin's source, when it carries debug
    /// information.
    pub source: Option<SourceLocation>,
}

/// A wasm execution stopped abnormally.
#[derive(Debug)]
pub struct Trap {
    /// What happened.
    pub code: TrapCode,
    /// Index of the wasm function that trapped, when known.
    pub func_index: Option<u32>,
    /// Its name from the name section.
    pub func_name: Option<String>,
    /// Byte offset of the trapping instruction in the wasm module.
    pub wasm_offset: Option<u32>,
    /// Wasm frames, innermost first.
    pub backtrace: Vec<FrameInfo>,
    /// For [`TrapCode::HostError`]: the host function's error or panic message.
    pub host_error: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// A `memory.grow` or `table.grow` that a limit refused earlier in the
    /// same call: which limit, and how much was asked. Usually the reason
    /// for the trap (Rust's allocator turns a refused grow into
    /// `unreachable` in `rust_oom`).
    pub refused_grow: Option<String>,
}

impl Trap {
    /// Where the trapping instruction is in the plugin's source, when the
    /// plugin carries debug information (the innermost frame's).
    pub fn source(&self) -> Option<&SourceLocation> {
        self.wasm_offset?;
        self.backtrace.first()?.source.as_ref()
    }

    /// A trap without location (e.g. raised during instantiation).
    pub fn new(code: TrapCode) -> Trap {
        Trap {
            code,
            func_index: None,
            func_name: None,
            wasm_offset: None,
            backtrace: vec![],
            host_error: None,
            refused_grow: None,
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trap: {}", self.code)?;
        if let Some(e) = &self.host_error {
            write!(f, ": {e}")?;
        }
        if let Some(i) = self.func_index {
            write!(f, " in function {i}")?;
            if let Some(n) = &self.func_name {
                write!(f, " ({n})")?;
            }
        }
        if let Some(o) = self.wasm_offset {
            write!(f, " at wasm offset {o:#x}")?;
        }
        if let Some(s) = self.source() {
            write!(f, " ({s})")?;
        }
        if let Some(note) = &self.refused_grow {
            write!(f, "\nafter a refused grow: {note}")?;
        }
        if self.backtrace.len() > 1 {
            f.write_str("\nwasm backtrace:")?;
            let mut i = 0;
            while i < self.backtrace.len() {
                let fr = &self.backtrace[i];
                let run = self.backtrace[i..].iter().take_while(|g| *g == fr).count();
                write!(f, "\n  {i}: function {}", fr.func_index)?;
                if let Some(n) = &fr.func_name {
                    write!(f, " ({n})")?;
                }
                if let Some(s) = &fr.source {
                    write!(f, " at {s}")?;
                }
                if run > 1 {
                    write!(f, ", {} more times", run - 1)?;
                }
                i += run;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}
