use scion_sdk::Schema;

#[derive(Schema)]
pub union Bits {
    a: u32,
    b: f32,
}

fn main() {}
