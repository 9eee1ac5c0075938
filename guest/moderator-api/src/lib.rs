use scion_sdk::{Schema, interface};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Schema)]
pub struct Message {
    pub author: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Schema)]
pub enum Verdict {
    Allow,
    Rewrite(String),
    Reject { reason: String },
}

/// The plugin's configuration, chosen by the host.
#[derive(Debug, Clone, Serialize, Deserialize, Schema)]
pub struct Rules {
    pub banned: Vec<String>,
}

/// Implemented by the plugin, called by the host.
#[interface]
pub trait Moderator {
    fn review(&mut self, message: Message) -> Verdict;
    fn rejected(&self) -> u32;
}

/// Implemented by the host, called by the plugin.
#[interface]
pub trait Members {
    fn is_trusted(&mut self, author: String) -> bool;
}
