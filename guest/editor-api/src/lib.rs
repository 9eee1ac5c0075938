//! What the editor example and its command plugins share.
//!
//! An [`Extension`] lists commands and runs them on a snapshot of the
//! buffer, answering with [`Change`]s the editor validates and applies. It
//! can talk back through [`Editor`].

#![no_std]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use scion_sdk::{Schema, interface};
use serde::{Deserialize, Serialize};

/// A command an extension offers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub struct CommandInfo {
    /// The id it is run by (`sort-lines`).
    pub id: String,
    /// What it does, for the command palette.
    pub title: String,
}

/// The buffer as a command sees it. Offsets are byte offsets into `text`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub struct Buffer {
    /// The whole text.
    pub text: String,
    /// The selection (`start..end`; empty when they are equal).
    pub selection: (u32, u32),
}

/// Replace `start..end` with `text`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub struct Change {
    /// Start byte.
    pub start: u32,
    /// End byte (exclusive).
    pub end: u32,
    /// The replacement.
    pub text: String,
}

/// Why a command did nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Schema)]
pub enum CommandError {
    /// No command with that id.
    Unknown(String),
    /// The command needs a selection.
    NeedsSelection,
    /// Anything else.
    Failed(String),
}

/// A bundle of editor commands.
#[interface]
pub trait Extension {
    /// The commands offered.
    fn commands(&self) -> Vec<CommandInfo>;
    /// Runs command `id`; the changes must not overlap and are applied in
    /// order of their start offsets.
    fn run(&mut self, id: String, buffer: Buffer) -> Result<Vec<Change>, CommandError>;
}

/// What the editor offers to extensions.
#[interface]
pub trait Editor {
    /// Shows a message in the status line.
    fn status(&mut self, message: String);
    /// The clipboard's text.
    fn clipboard(&mut self) -> Option<String>;
}
