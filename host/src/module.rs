//! `Module`: a compiled, loaded, verified plugin, ready to instantiate.

use crate::artifact::load::{Expected, LoadedArtifact};
use crate::artifact::write_artifact;
use crate::cache::CacheKey;
use crate::compiler;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::info::{Export, Import, ModuleInfo};
use crate::runtime::memory_image::MemoryImages;
use crate::runtime::startup_fuel::StartupPlan;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// A compiled module. Cheap to clone; the shared object is unloaded when
/// the last clone and the last instance using it are gone.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

pub(crate) struct ModuleInner {
    pub artifact: LoadedArtifact,
    pub engine: Engine,
    /// Engine-wide signature id of each type index.
    pub type_ids: Vec<u32>,
    /// Copy-on-write images of the initial memories, built at the second
    /// instantiation (`None` inside: segments are copied).
    pub memory_images: OnceLock<Option<MemoryImages>>,
    /// Whether the module was instantiated before.
    pub instantiated: std::sync::atomic::AtomicBool,
    /// What instantiating costs in fuel, worked out at the first
    /// instantiation of a metering engine.
    pub startup_plan: OnceLock<StartupPlan>,
}

impl Drop for ModuleInner {
    fn drop(&mut self) {
        for &id in &self.type_ids {
            self.engine.release_type(id);
        }
    }
}

impl ModuleInner {
    /// What instantiating the module costs in fuel.
    pub fn startup_plan(&self) -> &StartupPlan {
        self.startup_plan.get_or_init(|| StartupPlan::of(&self.artifact.metadata.module))
    }

    /// The module's memory images for an instantiation, built on the
    /// second one: a module instantiated once (a cold start) is cheaper
    /// to copy into memory than to write into an image first.
    pub fn memory_images(&self) -> Option<&MemoryImages> {
        use std::sync::atomic::Ordering;
        if !self.instantiated.swap(true, Ordering::Relaxed) {
            return None;
        }
        self.memory_images
            .get_or_init(|| MemoryImages::build(&self.artifact.metadata.module))
            .as_ref()
    }
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module").field("artifact", &self.inner.artifact.path).finish()
    }
}

/// Whether input looks like WebAssembly text: UTF-8 starting (after
/// whitespace) with `(` or a `;;` comment.
fn looks_like_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| {
        let t = s.trim_start();
        t.starts_with('(') || t.starts_with(";;")
    })
}

/// Turns WebAssembly text into binary; anything else is taken as binary
/// (and gets the binary decoder's diagnosis).
fn to_binary(bytes: &[u8], path: Option<&Path>) -> Result<Vec<u8>> {
    let text_ext = path.and_then(Path::extension).is_some_and(|e| e == "wat" || e == "wast");
    if bytes.starts_with(b"\0asm") || !(text_ext || looks_like_text(bytes)) {
        return Ok(bytes.to_vec());
    }
    wat::parse_bytes(bytes).map(|b| b.into_owned()).map_err(|e| Error::Compile {
        path: path.map(Path::to_path_buf),
        error: compiler::CompileError::new(None, format!("invalid wasm text: {e}")),
    })
}

impl Module {
    /// Compiles (or loads from the cache) a module from wasm binary or text.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let wasm = to_binary(bytes.as_ref(), None)?;
        Module::from_binary_at(engine, &wasm, None)
    }

    /// Compiles a module from a `.wasm` or `.wat` file.
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        let wasm = to_binary(&bytes, Some(path))?;
        Module::from_binary_at(engine, &wasm, Some(path))
    }

    /// Decodes and validates a `.wasm` or `.wat` file without compiling it,
    /// returning everything but its function bodies (for tools such as
    /// `scion inspect`).
    pub fn describe_file(path: impl AsRef<Path>) -> Result<ModuleInfo> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        let wasm = to_binary(&bytes, Some(path))?;
        compiler::decode::decode(&wasm)
            .map(|d| d.info)
            .map_err(|error| Error::Compile { path: Some(path.to_path_buf()), error })
    }

    /// Compiles wasm binary or text that came from `path` (named in errors).
    pub(crate) fn from_bytes_at(
        engine: &Engine,
        bytes: &[u8],
        path: Option<&Path>,
    ) -> Result<Module> {
        let wasm = to_binary(bytes, path)?;
        Module::from_binary_at(engine, &wasm, path)
    }

    /// Loads an artifact file written by [`Module::compile_to_file`] or
    /// found in the cache, without the wasm it came from. The file is
    /// verified like a cache entry (checksum, compiler version, this
    /// engine's configuration, CPU features) before any of its code runs.
    pub fn from_artifact(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let config_hash = CacheKey::new(&[], engine.codegen()).config_hash;
        let artifact =
            LoadedArtifact::load(path, Expected { wasm_sha256: None, config_hash }).map_err(
                |e| Error::Io { path: path.to_path_buf(), source: std::io::Error::other(e) },
            )?;
        Ok(Module::wrap(engine, artifact))
    }

    /// Compiles a module from wasm binary only.
    pub fn from_binary(engine: &Engine, wasm: &[u8]) -> Result<Module> {
        Module::from_binary_at(engine, wasm, None)
    }

    fn from_binary_at(engine: &Engine, wasm: &[u8], path: Option<&Path>) -> Result<Module> {
        let codegen = engine.codegen().clone();
        let key = CacheKey::new(wasm, &codegen);
        let cache = engine.cache();
        let file = cache.path(&key);
        let expected =
            Expected { wasm_sha256: Some(key.wasm_sha256), config_hash: key.config_hash };
        if file.exists() {
            match LoadedArtifact::load(&file, expected) {
                Ok(artifact) => {
                    cache.touch(&file);
                    return Ok(Module::wrap(engine, artifact));
                }
                Err(e) => {
                    log::warn!("{e}; recompiling");
                    cache.remove(&key);
                }
            }
        }
        let bytes = compile_artifact(wasm, &codegen, &key)
            .map_err(|error| Error::Compile { path: path.map(Path::to_path_buf), error })?;
        let file =
            cache.store(&key, &bytes).map_err(|source| Error::Io { path: file.clone(), source })?;
        if let Err(e) = cache.evict(engine.config().cache_max_bytes, &file) {
            log::warn!("cannot trim the artifact cache {}: {e}", cache.dir().display());
        }
        let artifact = LoadedArtifact::load(&file, expected).map_err(|e| {
            Error::Unsupported(format!("a freshly written artifact does not load: {e}"))
        })?;
        Ok(Module::wrap(engine, artifact))
    }

    fn wrap(engine: &Engine, artifact: LoadedArtifact) -> Module {
        let type_ids = artifact.metadata.module.types.iter().map(|t| engine.register_type(t)).collect();
        Module {
            inner: Arc::new(ModuleInner {
                artifact,
                engine: engine.clone(),
                type_ids,
                memory_images: OnceLock::new(),
                instantiated: Default::default(),
                startup_plan: OnceLock::new(),
            }),
        }
    }

    /// Compiles wasm (binary or text) to an artifact file at `out`, outside
    /// the cache.
    pub fn compile_to_file(engine: &Engine, bytes: &[u8], out: &Path) -> Result<()> {
        let wasm = to_binary(bytes, None)?;
        let key = CacheKey::new(&wasm, engine.codegen());
        let artifact = compile_artifact(&wasm, engine.codegen(), &key)
            .map_err(|error| Error::Compile { path: None, error })?;
        std::fs::write(out, artifact)
            .map_err(|source| Error::Io { path: out.to_path_buf(), source })
    }

    /// Module information: types, imports, exports, segments.
    pub fn info(&self) -> &ModuleInfo {
        &self.inner.artifact.metadata.module
    }

    /// The imports, in order.
    pub fn imports(&self) -> &[Import] {
        &self.info().imports
    }

    /// The exports, in order.
    pub fn exports(&self) -> &[Export] {
        &self.info().exports
    }

    /// The engine it was compiled with.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The shared object the code is loaded from.
    pub fn artifact_path(&self) -> PathBuf {
        self.inner.artifact.path.clone()
    }
}

fn compile_artifact(
    wasm: &[u8],
    codegen: &compiler::CodegenConfig,
    key: &CacheKey,
) -> std::result::Result<Vec<u8>, compiler::CompileError> {
    let compiled = compiler::compile(wasm, codegen)?;
    Ok(write_artifact(&compiled, key.wasm_sha256, key.config_hash))
}
