use scion_sdk::plugin;

#[derive(Default)]
pub struct Plugin;

#[plugin]
impl Plugin {
    fn greet(&self) -> u32 {
        1
    }
}

fn main() {}
