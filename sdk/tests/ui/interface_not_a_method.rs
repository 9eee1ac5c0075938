use scion_sdk::interface;

#[interface]
pub trait Greeter {
    const GREETING: &'static str;
    fn greet(&self, name: String) -> String;
}

fn main() {}
