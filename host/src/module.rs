//! `Module`: a compiled, loaded, verified plugin, ready to instantiate.

use crate::artifact::load::{Expected, LoadedArtifact, Provenance};
use crate::artifact::write_artifact;
use crate::cache::CacheKey;
use crate::compiler;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::info::{Export, Import, ModuleInfo};
use crate::runtime::memory_image::{MemoryImage, MemoryImages};
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
    /// The ids of the module's memory images (made at the first
    /// instantiation).
    pub memory_images: OnceLock<MemoryImages>,
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

    /// The image of defined memory `index`, if it has one.
    pub fn memory_image(&self, index: usize) -> Option<MemoryImage<'_>> {
        self.memory_images
            .get_or_init(|| MemoryImages::of(&self.artifact))
            .get(&self.artifact, index)
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
    let text_error = |message: String| Error::Compile {
        path: path.map(Path::to_path_buf),
        error: compiler::CompileError::new(None, message),
    };
    #[cfg(feature = "wat")]
    return wat::parse_bytes(bytes)
        .map(|b| b.into_owned())
        .map_err(|e| text_error(format!("invalid wasm text: {e}")));
    #[cfg(not(feature = "wat"))]
    Err(text_error(
        "this looks like wasm text, which needs scion's `wat` feature (on by default)".into(),
    ))
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

    /// The source map of the `.wasm` (or `.wat`) file at `path`: where its
    /// code is in the plugin's source, when it was built with debug
    /// information (`None` when it has no line tables).
    pub fn describe_source_file(path: impl AsRef<Path>) -> Result<Option<crate::info::SourceMap>> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        let wasm = to_binary(&bytes, Some(path))?;
        let decoded = compiler::decode::decode(&wasm)
            .map_err(|error| Error::Compile { path: Some(path.to_path_buf()), error })?;
        let table =
            compiler::dwarf::source_table(&decoded.debug_sections, decoded.code_section_start);
        let bodies = decoded
            .bodies
            .iter()
            .map(|b| (b.func_index, b.body.range().start as u32))
            .collect();
        Ok(table.map(|t| crate::info::SourceMap::new(t, bodies)))
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

    /// Loads an artifact file written by [`Module::compile_to_file`] (or
    /// found in the cache) of an engine with the same cache directory,
    /// without the wasm it came from.
    ///
    /// The file is opened once, and everything is checked on that open file
    /// before any of it is executable: it must be a regular file owned by you
    /// and not writable by group or others; its signature must verify under
    /// the cache's key (so it is Scion's own output for this cache, not a
    /// file from elsewhere or one changed since); its ELF must be what the
    /// dynamic loader maps without running anything; and its compiler
    /// version, configuration and CPU features must fit this engine. The
    /// checks read a read-only mapping of that open file, which then becomes
    /// the loaded code: the path is not looked up again and no library
    /// search path is consulted. A file that fails is refused
    /// with the reason, and none of it runs. To load an artifact that was
    /// not signed for this cache, see [`Module::from_artifact_unchecked`].
    pub fn from_artifact(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let artifact = engine.cache().load_path(path, Module::any_wasm(engine)).map_err(|e| {
            Error::Io { path: path.to_path_buf(), source: std::io::Error::other(e) }
        })?;
        Ok(Module::wrap(engine, artifact))
    }

    /// Loads a precompiled artifact without requiring it to be signed for
    /// this engine's cache (e.g. one compiled elsewhere and shipped with
    /// the application), like Wasmtime's `Module::deserialize_file`.
    ///
    /// Everything [`Module::from_artifact`] checks is checked except the
    /// signature and the file's owner and mode: the file is still read
    /// once and that open file mapped, loading it still runs nothing, and
    /// an artifact of another compiler version, configuration or CPU is
    /// still refused.
    ///
    /// # Safety
    ///
    /// The caller vouches that the file is an artifact written by Scion's
    /// compiler (`Module::compile_to_file`, `scion compile` or a cache) of
    /// this version and not changed since, and that nobody changes or
    /// replaces it while this call runs. Its code runs with all the host's
    /// privileges, and Scion cannot tell its own code from a forgery here:
    /// a crafted file that passes the checks runs whatever native code it
    /// holds when one of its functions is called.
    pub unsafe fn from_artifact_unchecked(
        engine: &Engine,
        path: impl AsRef<Path>,
    ) -> Result<Module> {
        // SAFETY: the caller vouches for the file (this function's contract).
        Module::load_artifact(engine, path.as_ref(), unsafe { Provenance::vouched() })
    }

    /// What an artifact of any module loaded by path must match: this
    /// engine's configuration.
    fn any_wasm(engine: &Engine) -> Expected {
        let config_hash = CacheKey::new(&[], engine.codegen()).config_hash;
        Expected { wasm_sha256: None, config_hash }
    }

    fn load_artifact(engine: &Engine, path: &Path, provenance: Provenance<'_>) -> Result<Module> {
        let expected = Module::any_wasm(engine);
        let artifact = LoadedArtifact::open(path, expected, provenance).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
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
        match cache.load(&key, expected) {
            Ok(Some(artifact)) => return Ok(Module::wrap(engine, artifact)),
            Ok(None) => {}
            Err(e) => {
                log::warn!("{e}; recompiling");
                cache.remove(&key);
            }
        }
        let budget = &engine.config().compile_budget;
        let bytes = compile_artifact(wasm, &codegen, budget, &key)
            .map_err(|error| Error::Compile { path: path.map(Path::to_path_buf), error })?;
        let file =
            cache.store(&key, &bytes).map_err(|source| Error::Io { path: file.clone(), source })?;
        if let Err(e) = cache.evict(engine.config().cache_max_bytes, &file) {
            log::warn!("cannot trim the artifact cache {}: {e}", cache.dir().display());
        }
        let artifact = match cache.load(&key, expected) {
            Ok(Some(artifact)) => artifact,
            Ok(None) => {
                let what = format!("a freshly written artifact vanished: {}", file.display());
                return Err(Error::Unsupported(what));
            }
            Err(e) => {
                let what = format!("a freshly written artifact does not load: {e}");
                return Err(Error::Unsupported(what));
            }
        };
        Ok(Module::wrap(engine, artifact))
    }

    fn wrap(engine: &Engine, artifact: LoadedArtifact) -> Module {
        let type_ids =
            artifact.metadata.module.types.iter().map(|t| engine.register_type(t)).collect();
        Module {
            inner: Arc::new(ModuleInner {
                artifact,
                engine: engine.clone(),
                type_ids,
                memory_images: OnceLock::new(),
                startup_plan: OnceLock::new(),
            }),
        }
    }

    /// Compiles wasm (binary or text) to an artifact file at `out`, outside
    /// the cache, signed with the cache's key (so [`Module::from_artifact`]
    /// of an engine with the same cache directory loads it). The file is
    /// written beside `out` and renamed over it, mode 0644, so a process
    /// that has the old file loaded keeps running it unchanged.
    pub fn compile_to_file(engine: &Engine, bytes: &[u8], out: &Path) -> Result<()> {
        let wasm = to_binary(bytes, None)?;
        let key = CacheKey::new(&wasm, engine.codegen());
        let budget = &engine.config().compile_budget;
        let artifact = compile_artifact(&wasm, engine.codegen(), budget, &key)
            .map_err(|error| Error::Compile { path: None, error })?;
        write_signed(engine, &artifact, out)
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

/// Writes `artifact`, signed with the engine's cache key, to `out`
/// atomically (a temporary file beside it, then a rename).
fn write_signed(engine: &Engine, artifact: &[u8], out: &Path) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| Error::Io { path: out.to_path_buf(), source };
    let name = out.file_name().ok_or_else(|| io(std::io::Error::other("no file name")))?;
    let tmp = out.with_file_name(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o644).open(&tmp)?;
        f.write_all(artifact)?;
        f.write_all(&engine.cache().key().signature(artifact))?;
        f.sync_data()?;
        std::fs::rename(&tmp, out)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

fn compile_artifact(
    wasm: &[u8],
    codegen: &compiler::CodegenConfig,
    budget: &compiler::CompileBudget,
    key: &CacheKey,
) -> std::result::Result<Vec<u8>, compiler::CompileError> {
    let compiled = compiler::compile(wasm, codegen, budget)?;
    Ok(write_artifact(&compiled, key.wasm_sha256, key.config_hash))
}
