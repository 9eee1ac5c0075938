//! One interface, one method, a `String` in and out.

use scion_sdk::{interface, plugin};

/// Greets people.
#[interface]
pub trait Greeter {
    /// A greeting for `name`.
    fn greet(&self, name: String) -> String;
}

/// The plugin.
#[derive(Default)]
pub struct Hello;

#[plugin]
impl Greeter for Hello {
    fn greet(&self, name: String) -> String {
        format!("Hello, {name}!")
    }
}
