use scion_sdk::interface;

#[interface]
pub trait Greeter {
    fn greet(name: String) -> String;
}

fn main() {}
