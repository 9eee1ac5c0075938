use scion_sdk::interface;

#[interface]
pub trait Greeter {
    fn greet(&self, name: &str) -> String;
}

fn main() {}
