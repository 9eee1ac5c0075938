use scion_sdk::{interface, plugin};

#[interface]
pub trait Counter {
    fn count(&mut self) -> u32;
}

#[derive(Default)]
pub struct Tally {
    n: u32,
}

#[plugin(state)]
impl Counter for Tally {
    fn count(&mut self) -> u32 {
        self.n += 1;
        self.n
    }
}

fn main() {}
