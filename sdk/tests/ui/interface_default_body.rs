use scion_sdk::interface;

#[interface]
pub trait Greeter {
    fn greet(&self, name: String) -> String {
        name
    }
}

fn main() {}
