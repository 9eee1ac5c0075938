use scion_sdk::{interface, plugin};

#[interface]
pub trait Greeter {
    fn greet(&self, name: String) -> String;
}

#[interface]
pub trait Counter {
    fn count(&self) -> u32;
}

#[derive(Default)]
pub struct Plugin;

#[plugin]
impl Greeter for Plugin {
    fn greet(&self, name: String) -> String {
        name
    }
}

#[plugin(additional, state)]
impl Counter for Plugin {
    fn count(&self) -> u32 {
        1
    }
}

fn main() {}
