//! What Scion trusts, tried as an attacker would (issue #13): crafted ELF
//! files, forged code, cache directories someone else controls, symbolic
//! links, a decoy on the library path, a file swapped after it was opened.
//! None of them may get a single instruction of its own executed: each
//! payload here would create a marker file, and every test checks that
//! none appeared. Also: a plugin can be debugged with gdb breakpoints.

use scion::artifact::load::{Expected, LoadedArtifact, Provenance};
use scion::cache::CacheKey;
use scion::{Config, Engine, Instance, Module, Store};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

const HOST: &str = env!("CARGO_BIN_EXE_plugin-host");

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("trust").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn engine(cache: &Path) -> Engine {
    Engine::new(Config::new().cache_dir(cache)).unwrap()
}

fn wat(n: i32) -> String {
    format!(r#"(module (func (export "f") (result i32) i32.const {n}))"#)
}

fn call_f(engine: &Engine, module: &Module) -> i32 {
    let mut store = Store::new(engine, ());
    let inst = Instance::new(&mut store, module, &[]).unwrap();
    inst.get_typed_func::<(), i32>(&store, "f").unwrap().call(&mut store, ()).unwrap()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Machine code that creates `marker` (open(2) with O_CREAT) and returns:
/// proof, if the file appears, that a payload ran.
fn payload(marker: &Path) -> Vec<u8> {
    let mut code = vec![0x48, 0x8d, 0x3d, 0, 0, 0, 0]; // lea rdi, [rip + path]
    code.extend([0xbe, 0x41, 0, 0, 0]); // mov esi, O_WRONLY | O_CREAT
    code.extend([0xba, 0xa4, 0x01, 0, 0]); // mov edx, 0644
    code.extend([0xb8, 2, 0, 0, 0]); // mov eax, SYS_open
    code.extend([0x0f, 0x05, 0xc3]); // syscall; ret
    let disp = (code.len() - 7) as u32;
    code[3..7].copy_from_slice(&disp.to_le_bytes());
    code.extend(marker.as_os_str().as_encoded_bytes());
    code.push(0);
    code
}

fn assert_no_marker(marker: &Path, what: &str) {
    assert!(!marker.exists(), "{what}: the attacker's code ran (it created {})", marker.display());
}

// ---- a tiny ELF editor ----

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// File offsets of the program headers, with their types.
fn phdrs(b: &[u8]) -> Vec<(usize, u32)> {
    let phoff = u64_at(b, 32) as usize;
    let phnum = u16::from_le_bytes(b[56..58].try_into().unwrap()) as usize;
    (0..phnum)
        .map(|i| {
            let at = phoff + 56 * i;
            (at, u32::from_le_bytes(b[at..at + 4].try_into().unwrap()))
        })
        .collect()
}

fn phdr(b: &[u8], ty: u32) -> usize {
    phdrs(b).into_iter().find(|&(_, t)| t == ty).map(|(at, _)| at).unwrap()
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_GNU_STACK: u32 = 0x6474_e551;
const PT_GNU_RELRO: u32 = 0x6474_e552;

/// (file offset, size) of the dynamic section.
fn dynamic(b: &[u8]) -> (usize, usize) {
    let at = phdr(b, PT_DYNAMIC);
    (u64_at(b, at + 8) as usize, u64_at(b, at + 32) as usize)
}

/// The executable segment's file range.
fn text(b: &[u8]) -> (usize, usize) {
    let at = phdrs(b)
        .into_iter()
        .find(|&(at, t)| t == PT_LOAD && b[at + 4] & 1 != 0)
        .map(|(at, _)| at)
        .unwrap();
    (u64_at(b, at + 8) as usize, u64_at(b, at + 32) as usize)
}

/// Replaces the dynamic tag `old` by (`tag`, `val`).
fn set_dynamic_tag(b: &mut [u8], old: u64, tag: u64, val: u64) {
    let (off, size) = dynamic(b);
    let at = (off..off + size).step_by(16).find(|&at| u64_at(b, at) == old).unwrap();
    put_u64(b, at, tag);
    put_u64(b, at + 8, val);
}

const DT_GNU_HASH: u64 = 0x6fff_fef5;
const DT_INIT: u64 = 12;

/// The file offset (equal to the address) of `wat(n)`'s function `f`,
/// from the symbol table.
fn function_f(b: &[u8]) -> usize {
    use object::{Object, ObjectSymbol};
    let file = object::File::parse(b).unwrap();
    let f = file.symbols().find(|s| s.name() == Ok("wasm_function_0")).expect("symbol of f");
    f.address() as usize
}

/// A genuine artifact (unsigned ELF bytes) of `wat(n)` whose function `f`
/// is replaced by the marker payload.
fn with_payload(elf: &[u8], marker: &Path) -> Vec<u8> {
    let mut b = elf.to_vec();
    let (start, len) = text(&b);
    let f = function_f(&b);
    let code = payload(marker);
    assert!(f + code.len() <= start + len);
    b[f..f + code.len()].copy_from_slice(&code);
    b
}

/// Issue #13.1's file: the dynamic section at its address (what glibc
/// reads) has DT_INIT pointing at the payload; `PT_DYNAMIC`'s file offset
/// points at a clean copy appended to the file (what the old precheck read).
fn init_in_memory_view_only(elf: &[u8], marker: &Path) -> Vec<u8> {
    let mut b = with_payload(elf, marker);
    let (off, size) = dynamic(&b);
    let clean = b[off..off + size].to_vec();
    let f = function_f(&b) as u64;
    set_dynamic_tag(&mut b, DT_GNU_HASH, DT_INIT, f);
    let copy_at = b.len() as u64;
    b.extend_from_slice(&clean);
    let dynamic_phdr = phdr(&b, PT_DYNAMIC);
    put_u64(&mut b, dynamic_phdr + 8, copy_at);
    b
}

/// Writes `wat(n)` compiled for `engine` to `out`; returns the unsigned
/// ELF bytes (without the signature trailer).
fn genuine(engine: &Engine, n: i32, out: &Path) -> Vec<u8> {
    Module::compile_to_file(engine, wat(n).as_bytes(), out).unwrap();
    let bytes = std::fs::read(out).unwrap();
    let len = scion::artifact::sign::signed_len(&bytes).expect("compile_to_file signs");
    bytes[..len].to_vec()
}

/// A cache at `cache` holding `wat(7)`: its engine, the entry's path and
/// the entry's (signed) bytes.
fn cache_with_entry(cache: &Path) -> (Engine, PathBuf, Vec<u8>) {
    let engine = engine(cache);
    let entry = Module::new(&engine, wat(7)).unwrap().artifact_path();
    let signed = std::fs::read(&entry).unwrap();
    (engine, entry, signed)
}

fn load_vouched(engine: &Engine, path: &Path) -> scion::Result<Module> {
    // SAFETY: the test wants to see the ELF checks refuse crafted files
    // without the signature check; every file here is refused before any
    // of it is mapped (that is what is being tested).
    unsafe { Module::from_artifact_unchecked(engine, path) }
}

// ---- 1. initializers in the loader's view only ----

/// Issue #13.1: the precheck read PT_DYNAMIC at its file offset while
/// glibc reads it at its address. This file's dynamic section at its
/// address has DT_INIT pointing at the payload; at its file offset sits a
/// clean copy. Crafted variants of the same idea follow; none may run.
#[test]
fn crafted_elf_files_are_refused_before_dlopen() {
    let dir = scratch("crafted");
    let engine = engine(&dir.join("cache"));
    let marker = dir.join("marker");
    let elf = genuine(&engine, 7, &dir.join("genuine.so"));
    let base = with_payload(&elf, &marker);
    let text_addr = function_f(&base) as u64;

    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    // The memory view has DT_INIT, the file view is clean.
    let split = init_in_memory_view_only(&elf, &marker);
    cases.push(("DT_INIT in the memory view only", split, "differs from its address"));

    let mut b = base.clone();
    set_dynamic_tag(&mut b, DT_GNU_HASH, DT_INIT, text_addr);
    cases.push(("DT_INIT", b, "DT_INIT"));
    for (tag, name) in [(25, "DT_INIT_ARRAY"), (32, "DT_PREINIT_ARRAY"), (26, "DT_FINI_ARRAY")] {
        let mut b = base.clone();
        set_dynamic_tag(&mut b, DT_GNU_HASH, tag, text_addr);
        cases.push((name, b, name));
    }
    let mut b = base.clone();
    set_dynamic_tag(&mut b, DT_GNU_HASH, 1, 1); // DT_NEEDED, a name in .dynstr
    cases.push(("DT_NEEDED", b, "DT_NEEDED"));
    let mut b = base.clone();
    set_dynamic_tag(&mut b, DT_GNU_HASH, 7, text_addr); // DT_RELA
    cases.push(("relocations", b, "relocations"));
    let mut b = base.clone();
    set_dynamic_tag(&mut b, DT_GNU_HASH, 22, 0); // DT_TEXTREL
    cases.push(("DT_TEXTREL", b, "DT_TEXTREL"));
    // PT_GNU_RELRO turned into PT_TLS, then into PT_INTERP.
    for (ty, name) in [(7u32, "PT_TLS"), (3, "PT_INTERP")] {
        let mut b = base.clone();
        let at = phdr(&b, PT_GNU_RELRO);
        b[at..at + 4].copy_from_slice(&ty.to_le_bytes());
        cases.push((name, b, name));
    }
    // An executable stack.
    let mut b = base.clone();
    let at = phdr(&b, PT_GNU_STACK);
    b[at + 4] |= 1;
    cases.push(("executable stack", b, "executable stack"));
    // The headers' segment made executable.
    let mut b = base.clone();
    let at = phdr(&b, PT_LOAD);
    b[at + 4] |= 1;
    cases.push(("executable headers", b, "first segment"));
    // No executable segment at all.
    let mut b = base.clone();
    let exec = phdrs(&b).into_iter().find(|&(at, t)| t == PT_LOAD && b[at + 4] & 1 != 0).unwrap();
    b[exec.0 + 4] &= !1;
    cases.push(("no executable segment", b, "0 executable segments"));
    // A writable and executable code segment.
    let mut b = base.clone();
    let at = phdrs(&b).into_iter().find(|&(at, t)| t == PT_LOAD && b[at + 4] & 1 != 0).unwrap().0;
    b[at + 4] |= 2;
    cases.push(("W+X segment", b, "flags"));
    // The descriptor symbol made an IFUNC, whose resolver dlsym would run.
    let mut b = base.clone();
    let dynsym = (0..b.len() - 24)
        .step_by(8)
        .find(|&at| b[at + 4] == 0x11 && u64_at(&b, at + 16) == 48)
        .expect("the descriptor's dynamic symbol");
    b[dynsym + 4] = 0x1a;
    cases.push(("IFUNC symbol", b, "IFUNC"));
    // Truncated inside the code.
    let (start, len) = text(&base);
    cases.push(("truncated", base[..start + len / 2].to_vec(), "past the end of the file"));

    // Control: a plain dlopen (what the old loader did after its precheck)
    // runs the payload of the first file. (In another process.)
    let control = dir.join("control.so");
    let control_marker = dir.join("control-marker");
    std::fs::write(&control, init_in_memory_view_only(&elf, &control_marker)).unwrap();
    let out = Command::new(HOST).args(["dlopen", control.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(control_marker.exists(), "the payload is broken: the test would prove nothing");

    for (i, (what, bytes, reason)) in cases.iter().enumerate() {
        let path = dir.join(format!("crafted-{i}.so"));
        std::fs::write(&path, bytes).unwrap();
        // Even vouched for (no signature needed), the ELF checks refuse it.
        let err = load_vouched(&engine, &path).err().unwrap_or_else(|| panic!("{what} loaded"));
        assert!(err.to_string().contains(reason), "{what}: {err}");
        assert_no_marker(&marker, what);
        // The safe API refuses it for its missing signature first.
        let err = Module::from_artifact(&engine, &path).err().unwrap();
        assert!(err.to_string().contains("not signed"), "{what}: {err}");
        // So does `scion run`'s path (the same call) in another process.
        let out = Command::new(HOST)
            .args(["artifact", dir.join("cache").to_str().unwrap(), path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{what}");
        assert_no_marker(&marker, what);
    }
    // The unmodified payload file is refused too (unsigned); the genuine
    // file loads and runs.
    let module = Module::from_artifact(&engine, dir.join("genuine.so")).unwrap();
    assert_eq!(call_f(&engine, &module), 7);
}

/// The same crafted file planted in the cache: recompiled, never run.
#[test]
fn crafted_cache_entries_are_recompiled() {
    let dir = scratch("crafted-cache");
    let cache = dir.join("cache");
    let marker = dir.join("marker");
    let (_, entry, signed) = cache_with_entry(&cache);
    let elf = &signed[..scion::artifact::sign::signed_len(&signed).unwrap()];
    std::fs::write(&entry, init_in_memory_view_only(elf, &marker)).unwrap();
    let engine2 = engine(&cache);
    let module = Module::new(&engine2, wat(7)).unwrap();
    assert_eq!(call_f(&engine2, &module), 7);
    assert_no_marker(&marker, "crafted cache entry");
    assert_eq!(std::fs::read(&entry).unwrap(), signed, "the entry is rewritten");
}

// ---- 2. forged code with every public check recomputed ----

/// Issue #13.2: function 0 replaced by native code. The old checksum was
/// public; here the attacker keeps the old signature, signs with a key of
/// their own, or writes this cache's key id with their own MAC. All are
/// refused by Module::from_artifact and recompiled by the cache.
#[test]
fn forged_code_is_never_accepted() {
    let dir = scratch("forged");
    let cache = dir.join("cache");
    let marker = dir.join("marker");
    let (engine1, entry, signed) = cache_with_entry(&cache);
    let len = scion::artifact::sign::signed_len(&signed).unwrap();
    let (elf, trailer) = signed.split_at(len);
    let forged = with_payload(elf, &marker);
    let attacker = scion::artifact::sign::ArtifactKey::from_bytes([0x42; 32]);
    let mut same_id = attacker.signature(&forged);
    same_id[16..24].copy_from_slice(&trailer[16..24]);
    let variants: [(&str, Vec<u8>, &str); 3] = [
        ("the old signature kept", [&forged[..], trailer].concat(), "does not match"),
        (
            "signed with another key",
            [&forged[..], &attacker.signature(&forged)[..]].concat(),
            "another key",
        ),
        ("this key's id, another MAC", [&forged[..], &same_id[..]].concat(), "does not match"),
    ];
    for (what, bytes, reason) in &variants {
        // Module::from_artifact on the forged file.
        let path = dir.join("forged.so");
        std::fs::write(&path, bytes).unwrap();
        let err = Module::from_artifact(&engine1, &path).err().unwrap();
        assert!(err.to_string().contains(reason), "{what}: {err}");
        // The cache: recompiled, the entry rewritten.
        std::fs::write(&entry, bytes).unwrap();
        let engine2 = engine(&cache);
        let module = Module::new(&engine2, wat(7)).unwrap();
        assert_eq!(call_f(&engine2, &module), 7, "{what}");
        assert_eq!(std::fs::read(&entry).unwrap(), signed, "{what}: the entry is rewritten");
        assert_no_marker(&marker, what);
    }
    // Control: the forged file passes every other check, so only the
    // signature keeps its code from running. Vouched for, it runs.
    let control_marker = dir.join("control-marker");
    let control = dir.join("control.so");
    std::fs::write(&control, with_payload(elf, &control_marker)).unwrap();
    let module = load_vouched(&engine1, &control).unwrap();
    let mut store = Store::new(&engine1, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let _ = inst.get_typed_func::<(), i32>(&store, "f").unwrap().call(&mut store, ());
    assert!(control_marker.exists(), "the payload is broken: the test would prove nothing");

    // An artifact of another cache (another key) is not this cache's
    // output either.
    let other = engine(&dir.join("other-cache"));
    let out = dir.join("other.so");
    Module::compile_to_file(&other, wat(7).as_bytes(), &out).unwrap();
    let err = Module::from_artifact(&engine1, &out).err().unwrap();
    assert!(err.to_string().contains("another key"), "{err}");
    // ...unless the caller vouches for it.
    // SAFETY: `out` was just written by Scion's compiler.
    let module = unsafe { Module::from_artifact_unchecked(&engine1, &out) }.unwrap();
    assert_eq!(call_f(&engine1, &module), 7);
}

// ---- 2b. verification records ----

/// Waits until a file written now is settled (`artifact::record::SETTLED`),
/// so that loading it can leave a verification record.
fn settle() {
    std::thread::sleep(scion::artifact::record::SETTLED + std::time::Duration::from_millis(50));
}

fn sidecar(entry: &Path) -> PathBuf {
    entry.with_extension("so.ok")
}

/// A cache entry's record lets later loads skip hashing its code; no
/// change to the entry, in place or by replacing it, and no forged or
/// moved record, gets forged code accepted.
#[test]
fn verification_records_never_outlive_a_change() {
    use scion::artifact::record::RECORD_LEN;
    let dir = scratch("records");
    let cache = dir.join("cache");
    let marker = dir.join("marker");
    let (_, entry, signed) = cache_with_entry(&cache);
    // A fresh entry gets no record, only its use noted.
    assert_eq!(std::fs::metadata(sidecar(&entry)).unwrap().len(), 0, "no record of a fresh file");
    settle();
    let engine2 = engine(&cache);
    assert_eq!(call_f(&engine2, &Module::new(&engine2, wat(7)).unwrap()), 7);
    let record = std::fs::read(sidecar(&entry)).unwrap();
    assert_eq!(record.len(), RECORD_LEN, "a settled file verified in full gets a record");
    assert_eq!(call_f(&engine2, &Module::from_artifact(&engine2, &entry).unwrap()), 7);
    assert_eq!(std::fs::read(sidecar(&entry)).unwrap(), record, "the record is kept");

    let len = scion::artifact::sign::signed_len(&signed).unwrap();
    let forged = [&with_payload(&signed[..len], &marker)[..], &signed[len..]].concat();
    let reload = |what: &str| {
        let engine = engine(&cache);
        let module = Module::new(&engine, wat(7)).unwrap();
        assert_eq!(call_f(&engine, &module), 7, "{what}");
        assert_no_marker(&marker, what);
        assert_eq!(std::fs::read(&entry).unwrap(), signed, "{what}: the entry is rewritten");
    };
    // 1. Rewritten in place (same inode), its times put back: ctime moved.
    let times = std::fs::metadata(&entry).unwrap();
    std::fs::write(&entry, &forged).unwrap();
    let f = std::fs::File::options().write(true).open(&entry).unwrap();
    f.set_times(
        std::fs::FileTimes::new()
            .set_modified(times.modified().unwrap())
            .set_accessed(times.accessed().unwrap()),
    )
    .unwrap();
    drop(f);
    std::fs::write(sidecar(&entry), &record).unwrap();
    settle();
    reload("rewritten in place");
    // 2. Replaced by another file, the old record kept beside it.
    settle();
    assert_eq!(call_f(&engine2, &Module::from_artifact(&engine2, &entry).unwrap()), 7);
    let record = std::fs::read(sidecar(&entry)).unwrap();
    assert_eq!(record.len(), RECORD_LEN);
    let tmp = dir.join("replacement");
    std::fs::write(&tmp, &forged).unwrap();
    std::fs::rename(&tmp, &entry).unwrap();
    settle();
    let err = Module::from_artifact(&engine2, &entry).expect_err("the replacement is refused");
    assert!(err.to_string().contains("does not match"), "{err}");
    reload("replaced, old record kept");
    // 3. A record of another entry, and records that are not this key's.
    let other = Module::new(&engine2, wat(8)).unwrap().artifact_path();
    settle();
    Module::from_artifact(&engine2, &other).unwrap();
    let other_record = std::fs::read(sidecar(&other)).unwrap();
    assert_eq!(other_record.len(), RECORD_LEN);
    let attacker = scion::artifact::sign::ArtifactKey::from_bytes([0x42; 32]);
    for (what, record) in [
        ("another entry's record", other_record),
        ("a record under another key", {
            let meta = std::fs::metadata(&entry).unwrap();
            let mac = scion::artifact::record::trailer_mac(&forged).unwrap();
            attacker.record(scion::artifact::record::FileStamp::of(&meta), &mac).to_vec()
        }),
        ("garbage", vec![0xa5; RECORD_LEN]),
    ] {
        std::fs::write(&entry, &forged).unwrap();
        std::fs::write(sidecar(&entry), &record).unwrap();
        settle();
        let err = Module::from_artifact(&engine2, &entry).expect_err(what);
        assert!(err.to_string().contains("does not match"), "{what}: {err}");
        reload(what);
    }
}

/// The other side: a valid record really stands for the signature check
/// (so the tests above prove something). A file whose code was changed
/// after signing, with a record made for it under the key, loads without
/// its code being hashed; without the record it is refused.
#[test]
fn a_valid_record_stands_for_hashing_the_code() {
    use scion::artifact::record::{FileStamp, trailer_mac};
    let dir = scratch("record-stands");
    let engine = engine(&dir.join("cache"));
    let elf = genuine(&engine, 7, &dir.join("a.so"));
    let key = scion::artifact::sign::ArtifactKey::from_bytes([0x17; 32]);
    let mut file = [&elf[..], &key.signature(&elf)[..]].concat();
    let (start, _) = text(&file);
    file[start] ^= 0xff; // the code no longer matches the MAC
    let path = dir.join("changed.so");
    std::fs::write(&path, &file).unwrap();
    let config_hash = CacheKey::new(&[], engine.codegen()).config_hash;
    let expected = Expected { wasm_sha256: None, config_hash };
    let open = || std::fs::File::open(&path).unwrap();
    let err = LoadedArtifact::load_file(open(), &path, expected, Provenance::signed(&key));
    assert!(err.unwrap_err().reason.contains("does not match"));
    let stamp = FileStamp::of(&std::fs::metadata(&path).unwrap());
    let record = key.record(stamp, &trailer_mac(&file).unwrap());
    let loaded = LoadedArtifact::load_file(
        open(),
        &path,
        expected,
        Provenance::recorded(&key, Some(&record)),
    )
    .unwrap();
    assert!(loaded.record.is_none(), "a recorded load makes no new record");
}

// ---- 3. cache directories someone else controls ----

fn chown(path: &Path, uid: u32) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: lchown(2) of a NUL-terminated path.
    assert_eq!(unsafe { libc::lchown(c.as_ptr(), uid, uid) }, 0, "lchown {}", path.display());
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

fn engine_err(cache: &Path) -> String {
    Engine::new(Config::new().cache_dir(cache)).expect_err("refused").to_string()
}

/// Issue #13.3: a directory another user made (and could fill) is refused,
/// whatever its mode, and never changed into shape.
#[test]
fn cache_directories_of_other_users_are_refused() {
    if !is_root() {
        eprintln!("skipped: making a directory owned by another user needs root");
        return;
    }
    let dir = scratch("other-user");
    let marker = dir.join("marker");
    // Another user's cache, with a planted artifact for `wat(7)`.
    let mine = dir.join("mine");
    let module = Module::new(&engine(&mine), wat(7)).unwrap();
    let name = module.artifact_path().file_name().unwrap().to_owned();
    drop(module);
    let theirs = dir.join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    let planted = std::fs::read(mine.join(&name)).unwrap();
    let len = scion::artifact::sign::signed_len(&planted).unwrap();
    std::fs::write(theirs.join(&name), with_payload(&planted[..len], &marker)).unwrap();
    for m in [0o700, 0o755, 0o777] {
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(m)).unwrap();
        chown(&theirs, 12345);
        let err = engine_err(&theirs);
        assert!(err.contains("owned by uid 12345, not you (uid 0)"), "{err}");
        assert!(err.contains("SCION_CACHE_DIR"), "{err}");
        assert_eq!(mode(&theirs), m, "the directory was changed");
        assert_eq!(std::fs::metadata(&theirs).unwrap().uid(), 12345);
    }
    // A directory of mine that others may write into.
    let open = dir.join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let err = engine_err(&open);
    assert!(err.contains("mode 777; it must be 700"), "{err}");
    assert_eq!(mode(&open), 0o1777, "never chmodded into shape");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o750)).unwrap();
    assert!(engine_err(&open).contains("mode 750"));
    assert_no_marker(&marker, "another user's cache");

    // Entries: owned by someone else, writable by others, or a symbolic
    // link are recompiled (the link's target untouched).
    let cache = dir.join("entries");
    let e = engine(&cache);
    let module = Module::new(&e, wat(7)).unwrap();
    let entry = module.artifact_path();
    drop(module);
    let good = std::fs::read(&entry).unwrap();
    let decoy = dir.join("decoy.so");
    std::fs::write(&decoy, &good).unwrap();
    type Damage = fn(&Path, &Path);
    let damages: [(&str, Damage); 3] = [
        ("owned by another user", |p, _| chown(p, 12345)),
        ("writable by others", |p, _| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o666)).unwrap()
        }),
        ("a symbolic link", |p, decoy| {
            std::fs::remove_file(p).unwrap();
            std::os::unix::fs::symlink(decoy, p).unwrap();
        }),
    ];
    for (what, damage) in damages {
        damage(&entry, &decoy);
        let e = engine(&cache);
        let module = Module::new(&e, wat(7)).unwrap();
        assert_eq!(call_f(&e, &module), 7);
        let meta = std::fs::symlink_metadata(&entry).unwrap();
        assert!(meta.is_file() && meta.uid() == 0 && meta.mode() & 0o077 == 0, "{what}");
        assert_eq!(std::fs::read(&decoy).unwrap(), good, "{what}: the link's target changed");
    }

    // A key file others may read is refused, not fixed.
    let key = cache.join("mac-key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = engine_err(&cache);
    assert!(err.contains("key file mac-key has mode 644"), "{err}");
    assert_eq!(mode(&key), 0o644);
}

/// Issue #13.3: with no HOME, XDG_CACHE_HOME or SCION_CACHE_DIR, the cache
/// is not put in a shared directory (it was /tmp/scion-cache).
#[test]
fn the_default_cache_is_never_in_a_shared_directory() {
    let out = Command::new(HOST).arg("cache-dir").env_clear().output().unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        // The home directory from the password database.
        assert!(printed.ends_with(".cache/scion"), "{printed}");
        assert!(!printed.starts_with(std::env::temp_dir().to_str().unwrap()), "{printed}");
    } else {
        assert!(stderr.contains("SCION_CACHE_DIR"), "{stderr}");
    }
    // XDG_RUNTIME_DIR is used only without any home.
    let out = Command::new(HOST)
        .arg("cache-dir")
        .env_clear()
        .env("XDG_CACHE_HOME", "relative/ignored")
        .env("HOME", "/home/someone")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "/home/someone/.cache/scion");
}

/// Issue #13.3: a symbolic link to a cache directory is not followed: the
/// target is not chmodded, written into or cleaned.
#[test]
fn symlinked_cache_directories_are_refused() {
    let dir = scratch("symlink");
    let target = dir.join("target");
    std::fs::create_dir(&target).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
    let old_tmp = target.join(".tmp-unrelated");
    std::fs::write(&old_tmp, b"keep me").unwrap();
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&old_tmp)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = engine_err(&link);
    assert!(err.contains("symbolic link"), "{err}");
    assert!(err.contains(target.to_str().unwrap()), "names the target: {err}");
    assert_eq!(mode(&target), 0o755, "the target was chmodded");
    assert!(old_tmp.exists(), "a file in the target was deleted");
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1, "the target was written into");
    // Also when the target is a perfectly good cache directory.
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(engine_err(&link).contains("symbolic link"));
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);
    // The cache itself works through the real path.
    std::fs::remove_file(&old_tmp).unwrap();
    let e = engine(&target);
    assert_eq!(call_f(&e, &Module::new(&e, wat(3)).unwrap()), 3);
}

// ---- 4. the file checked is the file loaded ----

/// A shared library whose constructor creates `marker`, built with the C
/// compiler; `None` when there is none.
fn decoy_library(dir: &Path, out: &Path, marker: &Path) -> Option<()> {
    let src = dir.join("decoy.c");
    std::fs::write(
        &src,
        format!(
            "#include <fcntl.h>\n#include <unistd.h>\n\
             __attribute__((constructor)) static void decoy(void) {{\n\
             int fd = open(\"{}\", O_CREAT | O_WRONLY, 0644); if (fd >= 0) close(fd); }}\n\
             int f(void) {{ return 666; }}\n",
            marker.display()
        ),
    )
    .unwrap();
    let status = Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(out).arg(&src).status();
    match status {
        Ok(s) if s.success() => Some(()),
        _ => {
            eprintln!("skipped: no C compiler (cc) to build the decoy library");
            None
        }
    }
}

/// Issue #13.4: `from_artifact("plugin.so")` checked ./plugin.so but
/// dlopen searched the library path, where a decoy's constructor ran.
#[test]
fn a_bare_file_name_never_searches_the_library_path() {
    let dir = scratch("bare-name");
    let marker = dir.join("marker");
    let libs = dir.join("libs");
    std::fs::create_dir(&libs).unwrap();
    if decoy_library(&dir, &libs.join("plugin.so"), &marker).is_none() {
        return;
    }
    // Control: the same library with another marker, opened as the old
    // loader did (`dlopen("plugin.so")` with the library path set), runs.
    let control_libs = dir.join("control-libs");
    std::fs::create_dir(&control_libs).unwrap();
    let control_marker = dir.join("control-marker");
    decoy_library(&dir, &control_libs.join("plugin.so"), &control_marker).unwrap();
    Command::new(HOST)
        .args(["dlopen", "plugin.so"])
        .env("LD_LIBRARY_PATH", &control_libs)
        .output()
        .unwrap();
    assert!(control_marker.exists(), "the decoy is broken: the test would prove nothing");
    let work = dir.join("work");
    std::fs::create_dir(&work).unwrap();
    let cache = dir.join("cache");
    let engine = engine(&cache);
    genuine(&engine, 7, &work.join("plugin.so"));
    let out = Command::new(HOST)
        .args(["artifact", cache.to_str().unwrap(), "plugin.so"])
        .current_dir(&work)
        .env("LD_LIBRARY_PATH", &libs)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), "f() = 7", "the file in the working directory was loaded");
    assert_no_marker(&marker, "decoy on the library path");
}

/// Issue #13.4: the path is swapped for a decoy after the file was opened
/// (and could be after any check): what is mapped is the open file.
#[test]
fn a_file_swapped_after_opening_is_not_loaded() {
    let dir = scratch("swapped");
    let marker = dir.join("marker");
    let decoy = dir.join("decoy.so");
    if decoy_library(&dir, &decoy, &marker).is_none() {
        return;
    }
    let engine = engine(&dir.join("cache"));
    let path = dir.join("plugin.so");
    genuine(&engine, 7, &path);
    let file = std::fs::File::open(&path).unwrap();
    std::fs::rename(&decoy, &path).unwrap();
    let expected = Expected {
        wasm_sha256: None,
        config_hash: CacheKey::new(&[], engine.codegen()).config_hash,
    };
    // SAFETY: the open file is an artifact Scion just wrote (the test is
    // that it, not the decoy now at the path, is what gets mapped).
    let vouched = unsafe { Provenance::vouched() };
    let artifact = LoadedArtifact::load_file(file, &path, expected, vouched).unwrap().artifact;
    assert_no_marker(&marker, "swapped path");
    // What was mapped is the genuine artifact: its descriptor's metadata.
    assert_eq!(artifact.metadata.module.exports[0].name, "f");
    drop(artifact);
    // And through the safe API, the decoy now at the path is refused.
    let err = Module::from_artifact(&engine, &path).err().unwrap();
    assert!(err.to_string().contains("not signed"), "{err}");
    assert_no_marker(&marker, "swapped path");
}

/// Loading the same file twice maps it once; different files loaded one
/// after another (so reusing descriptor numbers) each get their own code.
#[test]
fn each_load_maps_the_file_it_opened() {
    let dir = scratch("reuse");
    let engine = engine(&dir.join("cache"));
    let (a, b) = (dir.join("a.so"), dir.join("b.so"));
    genuine(&engine, 1, &a);
    genuine(&engine, 2, &b);
    let ma = Module::from_artifact(&engine, &a).unwrap();
    let ma2 = Module::from_artifact(&engine, &a).unwrap();
    for round in 0..20 {
        // `b` loads with the descriptor number another load just freed.
        let mb = Module::from_artifact(&engine, &b).unwrap();
        assert_eq!(call_f(&engine, &mb), 2, "round {round}");
        drop(mb);
        let mx = Module::from_artifact(&engine, &a).unwrap();
        assert_eq!(call_f(&engine, &mx), 1, "round {round}");
    }
    assert_eq!(call_f(&engine, &ma), 1);
    drop(ma);
    assert_eq!(call_f(&engine, &ma2), 1);
}

// ---- 5. debuggers ----

/// Issue #13.5: gdb's breakpoints write int3 into the mapped code, which
/// the old load verified ("checksum mismatch"). A breakpoint on a plugin
/// function by its name-section name stops there, the backtrace shows the
/// plugin's frames, and the plugin finishes normally.
#[test]
fn a_plugin_stops_at_a_gdb_breakpoint() {
    if Command::new("gdb").arg("--version").output().is_err() {
        eprintln!("skipped: gdb is not installed");
        return;
    }
    let dir = scratch("gdb");
    let cache = dir.join("cache");
    // Once to fill the cache, once to load from it under gdb.
    for _ in 0..2 {
        let out = Command::new("gdb")
            .args(["-batch", "-nx"])
            .args(["-ex", "set breakpoint pending on", "-ex", "set debuginfod enabled off"])
            .args(["-ex", "break fib", "-ex", "run", "-ex", "continue 5", "-ex", "bt"])
            .args(["-ex", "delete", "-ex", "continue"])
            .arg("--args")
            .args([HOST, "fib", cache.to_str().unwrap(), "20"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let all = format!("{stdout}\n{stderr}");
        assert!(
            all.contains("Breakpoint 1, ") && all.contains(" fib ()"),
            "no stop in fib:\n{all}"
        );
        let frames = stdout.lines().filter(|l| l.starts_with('#') && l.contains(" fib ()")).count();
        assert!(frames >= 6, "the backtrace shows {frames} plugin frames:\n{all}");
        assert!(stdout.contains("fib(20) = 6765"), "the plugin did not finish:\n{all}");
        assert!(all.contains("exited normally"), "{all}");
        assert!(!all.contains("checksum") && !all.contains("unusable artifact"), "{all}");
    }
}
