fn main() {
    let a: Vec<String> = std::env::args().collect();
    let wasm = std::fs::read(&a[1]).unwrap();
    let intr = a[2] == "1";
    let engine = scion::Engine::new(scion::Config::new().interruptible(intr)).unwrap();
    scion::Module::compile_to_file(&engine, &wasm, std::path::Path::new(&a[3])).unwrap();
}
