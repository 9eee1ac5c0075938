use scion_sdk::interface;

pub struct Handle(u32);

#[interface]
pub trait Files {
    fn open(&self, path: String) -> Handle;
}

fn main() {}
