use scion_sdk::interface;

#[interface]
pub trait Greeter {
    fn greet(&self, name: String) -> &'static str;
}

fn main() {}
