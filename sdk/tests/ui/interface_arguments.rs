use scion_sdk::interface;

#[interface]
pub trait Greeter {
    fn greet(&self, name: String) -> String;
}

#[interface(fast)]
pub trait WithArgs {
    fn f(&self) -> u32;
}

fn main() {}
