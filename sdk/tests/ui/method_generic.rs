use scion_sdk::interface;

#[interface]
pub trait Greeter {
    fn greet<T>(&self, name: String) -> String;
}

fn main() {}
