//! Schema descriptors: derive output, the constant encoder against the
//! decoder, recursion, and the differences `diff` reports.

use scion_sdk::schema::{
    self, Direction, InterfaceDesc, OwnedInterface, OwnedType, TypeRole, encode, encode_type,
    record_len, type_record_len,
};
use scion_sdk::{Interface, Schema, interface};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

#[derive(Serialize, Deserialize, Schema)]
struct Unit;

#[derive(Serialize, Deserialize, Schema)]
struct Pair(u8, i16);

#[derive(Serialize, Deserialize, Schema)]
struct Everything {
    a: (),
    b: bool,
    c: (u8, u16, u32, u64),
    d: (i8, i16, i32, i64),
    e: (f32, f64, char),
    f: String,
    g: Option<Vec<String>>,
    h: BTreeMap<String, Vec<u8>>,
    i: Result<Pair, String>,
    j: [u32; 32],
    k: VecDeque<BTreeSet<i64>>,
    l: Box<Unit>,
    #[serde(skip)]
    _cache: Vec<u8>,
}

#[derive(Serialize, Deserialize, Schema)]
enum Json {
    Null,
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Self>),
}

#[derive(Serialize, Deserialize, Schema)]
struct Tree<T> {
    value: T,
    children: Vec<Tree<T>>,
}

#[allow(dead_code)]
#[interface]
trait Everywhere {
    fn all(&mut self, e: Everything, j: Json) -> Result<Tree<u32>, Json>;
    fn scalar(&self, a: u8, b: i64, c: f32, d: f64, e: bool, f: char) -> u64;
    fn nothing(&self);
}

const DESC: &InterfaceDesc = <dyn Everywhere as Interface>::DESC;
const LEN: usize = record_len(DESC);
const EXPORT: [u8; LEN] = encode::<LEN>(DESC, Direction::Export);
const TLEN: usize = type_record_len(&<Tree<String> as Schema>::TYPE);
const STATE: [u8; TLEN] = encode_type::<TLEN>(&<Tree<String> as Schema>::TYPE, TypeRole::State);

#[test]
fn constant_encoding_decodes_to_the_descriptor() {
    let mut bytes = EXPORT.to_vec();
    bytes.extend_from_slice(&STATE);
    let section = schema::decode(&bytes).unwrap();
    assert_eq!(section.interfaces, vec![OwnedInterface::of(DESC, Direction::Export)]);
    assert_eq!(section.state, Some(OwnedType::of(&<Tree<String> as Schema>::TYPE)));
    assert_eq!(section.config, None);
    let m = &section.interfaces[0].methods;
    assert_eq!(m[0].abi, schema::Abi::Serialized);
    assert_eq!(m[1].abi, schema::Abi::Scalar);
    assert_eq!(m[2].abi, schema::Abi::Scalar);
    assert_eq!(
        m[1].to_string(),
        "fn scalar(&self, a: u8, b: i64, c: f32, d: f64, e: bool, f: char) -> u64"
    );
    assert_eq!(m[2].to_string(), "fn nothing(&self)");
}

#[test]
fn derive_describes_fields_and_skips_skipped_ones() {
    let OwnedType::Struct(name, fields) = OwnedType::of(&Everything::TYPE) else { panic!() };
    assert_eq!(name, "Everything");
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]);
    assert_eq!(fields[9].1.to_string(), "[u32; 32]");
    #[derive(Schema)]
    struct Big {
        _j: [u32; 70000],
    }
    const BIG_LEN: usize = type_record_len(&Big::TYPE);
    const BIG: [u8; BIG_LEN] = encode_type::<BIG_LEN>(&Big::TYPE, TypeRole::Config);
    let config = schema::decode(&BIG).unwrap().config.unwrap();
    assert_eq!(config, OwnedType::of(&Big::TYPE));
    let OwnedType::Struct(_, f) = config else { panic!() };
    assert_eq!(f[0].1.to_string(), "[u32; 70000]");
    assert_eq!(fields[8].1.to_string(), "Result<Pair, String>");
    assert_eq!(fields[2].1.to_string(), "(u8, u16, u32, u64)");
    assert_eq!(fields[11].1, OwnedType::of(&Unit::TYPE), "Box<T> is described as T");
}

#[test]
fn recursive_types_refer_to_themselves_by_name() {
    let OwnedType::Enum(_, variants) = OwnedType::of(&Json::TYPE) else { panic!() };
    assert_eq!(variants[3].1[0].1, OwnedType::List(Box::new(OwnedType::Ref("Json".into()))));
    assert_eq!(variants[4].1[0].1.to_string(), "Map<String, Json>");
    let OwnedType::Struct(_, fields) = OwnedType::of(&<Tree<u8> as Schema>::TYPE) else { panic!() };
    assert_eq!(fields[0].1, OwnedType::Leaf("u8"));
    assert_eq!(fields[1].1, OwnedType::List(Box::new(OwnedType::Ref("Tree".into()))));
}

#[test]
fn every_truncation_of_a_record_is_an_error() {
    for n in 0..EXPORT.len() {
        assert!(schema::decode(&EXPORT[..n]).is_err() || n == 0, "prefix of {n} bytes decoded");
    }
    assert_eq!(schema::decode(&[]).unwrap(), Default::default());
    let mut twice = EXPORT.to_vec();
    twice.extend_from_slice(&EXPORT);
    assert!(schema::decode(&twice).unwrap_err().to_string().contains("declared twice"));
}

mod v2 {
    use super::*;

    #[derive(Serialize, Deserialize, Schema)]
    pub enum Json {
        Null,
        Num(f64),
        Str(String),
        Arr(Vec<Json>),
    }

    #[allow(dead_code)]
    #[interface]
    pub trait Everywhere {
        fn all(&mut self, e: super::Everything, j: Json) -> Result<Tree<u32>, Json>;
        fn scalar(&self, a: u8, b: i64, c: f32, d: f64, e: bool, f: char) -> u64;
        fn nothing(&mut self);
    }
}

#[test]
fn diff_names_the_first_difference() {
    let host = OwnedInterface::of(DESC, Direction::Export);
    let plugin = OwnedInterface::of(<dyn v2::Everywhere as Interface>::DESC, Direction::Export);
    let d = schema::diff(&host, &plugin).unwrap();
    assert_eq!(
        d,
        "interface `Everywhere`, method `all`, argument `j` (enum Json): variant `Obj` is missing in the plugin"
    );
    let mut plugin = plugin;
    plugin.methods.remove(0);
    let d = schema::diff(
        &OwnedInterface { methods: host.methods[1..].to_vec(), ..host.clone() },
        &plugin,
    )
    .unwrap();
    assert!(d.contains("method `nothing`: the calling convention differs"), "{d}");
    assert_eq!(schema::diff(&host, &host), None);
}

#[test]
fn std_collections_share_the_schema_of_their_kind_and_interoperate() {
    use scion_sdk::wire;
    use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList};
    fn ty<T: Schema>() -> OwnedType {
        OwnedType::of(&T::TYPE)
    }
    assert_eq!(ty::<HashMap<String, u32>>(), ty::<BTreeMap<String, u32>>());
    assert_eq!(ty::<HashSet<u8>>(), ty::<Vec<u8>>());
    assert_eq!(ty::<BTreeSet<u8>>(), ty::<LinkedList<u8>>());
    assert_eq!(ty::<BinaryHeap<u8>>(), ty::<Vec<u8>>());
    assert_eq!(ty::<Box<[u8]>>(), ty::<Vec<u8>>());
    assert_eq!(ty::<Box<str>>(), ty::<String>());
    assert_ne!(ty::<[u8; 4]>(), ty::<Vec<u8>>(), "arrays keep their length in the schema");

    // A host's HashMap decodes as a plugin's BTreeMap and back, whatever
    // the hash order was.
    let map: HashMap<String, u32> = (0..50).map(|i| (format!("k{i}"), i)).collect();
    let sorted: BTreeMap<String, u32> = wire::decode(&wire::encode(&map).unwrap()).unwrap();
    assert_eq!(sorted.len(), 50);
    assert!(sorted.iter().all(|(k, v)| map[k] == *v));
    let back: HashMap<String, u32> = wire::decode(&wire::encode(&sorted).unwrap()).unwrap();
    assert_eq!(back, map);
    let set: HashSet<u16> = (0..300).collect();
    let list: Vec<u16> = wire::decode(&wire::encode(&set).unwrap()).unwrap();
    assert_eq!(list.iter().copied().collect::<HashSet<_>>(), set);
}
