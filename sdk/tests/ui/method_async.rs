use scion_sdk::interface;

#[interface]
pub trait Greeter {
    async fn greet(&self, name: String) -> String;
}

fn main() {}
