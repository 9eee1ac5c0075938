use scion_sdk::interface;

#[interface]
pub trait Greeter {
    fn greet(&self, (first, last): (String, String)) -> String;
}

fn main() {}
