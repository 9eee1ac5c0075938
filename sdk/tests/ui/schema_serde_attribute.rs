use scion_sdk::Schema;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Schema)]
#[serde(untagged)]
pub enum Value {
    Number(u64),
    Text(String),
}

fn main() {}
