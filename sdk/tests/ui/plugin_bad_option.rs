use scion_sdk::{interface, plugin};

#[interface]
pub trait Greeter {
    fn greet(&self, name: String) -> String;
}

#[derive(Default)]
pub struct Plugin;

#[plugin(stateful)]
impl Greeter for Plugin {
    fn greet(&self, name: String) -> String {
        name
    }
}

fn main() {}
