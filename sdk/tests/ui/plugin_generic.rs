use scion_sdk::{interface, plugin};

#[interface]
pub trait Greeter {
    fn greet(&self, name: String) -> String;
}

#[derive(Default)]
pub struct Plugin<T>(T);

#[plugin]
impl<T: Default + 'static> Greeter for Plugin<T> {
    fn greet(&self, name: String) -> String {
        name
    }
}

fn main() {}
