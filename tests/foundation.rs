//! End-to-end tests of the foundation: WAT -> .so -> load -> run.

use scion::{Config, Engine, Instance, Module, Store, TrapCode};

fn engine() -> Engine {
    let dir = std::env::temp_dir().join(format!("scion-test-cache-{}", std::process::id()));
    Engine::new(Config::new().cache_dir(dir)).unwrap()
}

fn instantiate(engine: &Engine, wat: &str) -> (Store<()>, Instance) {
    let module = Module::new(engine, wat).unwrap();
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

#[test]
fn add() {
    let e = engine();
    let (mut store, inst) = instantiate(&e, r#"(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"#);
    let add = inst.get_typed_func::<(i32, i32), i32>(&store, "add").unwrap();
    assert_eq!(add.call(&mut store, (1, 2)).unwrap(), 3);
    assert_eq!(add.call(&mut store, (i32::MAX, 1)).unwrap(), i32::MIN);
}
