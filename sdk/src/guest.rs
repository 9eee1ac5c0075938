//! The guest runtime, linked into every plugin built for `wasm32`: buffer
//! allocation for the host, the plugin instance, panic and log forwarding,
//! and the helpers the macros' glue calls.

use crate::abi;
use crate::wire::{self, WireError};
use alloc::alloc::{Layout, alloc, dealloc};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::any::Any;
use core::cell::UnsafeCell;

/// Allocates a host-writable buffer (export [`abi::ALLOC_EXPORT`]).
#[unsafe(no_mangle)]
pub extern "C" fn scion_alloc(len: u32) -> *mut u8 {
    match Layout::from_size_align(len.max(1) as usize, abi::BUFFER_ALIGN) {
        // SAFETY: the layout has a nonzero size.
        Ok(layout) => unsafe { alloc(layout) },
        Err(_) => core::ptr::null_mut(),
    }
}

/// Frees a buffer from [`scion_alloc`] (export [`abi::FREE_EXPORT`]).
///
/// # Safety
/// `ptr` must come from `scion_alloc(len)` and not be freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scion_free(ptr: *mut u8, len: u32) {
    if ptr.is_null() {
        return;
    }
    let layout = Layout::from_size_align(len.max(1) as usize, abi::BUFFER_ALIGN)
        .expect("same layout as at allocation");
    // SAFETY: the caller passes a pointer and length from `scion_alloc`.
    unsafe { dealloc(ptr, layout) }
}

#[link(wasm_import_module = "scion")]
unsafe extern "C" {
    #[link_name = "panic"]
    fn host_panic(ptr: *const u8, len: u32);
    #[link_name = "log"]
    fn host_log(level: i32, target: *const u8, target_len: u32, msg: *const u8, msg_len: u32);
}

/// Tells the host why the plugin is about to trap (called from the panic
/// hook the `#[plugin]` macro installs).
pub fn report_panic(message: &str) {
    // SAFETY: the host reads `len` bytes at `ptr` from this memory.
    unsafe { host_panic(message.as_ptr(), message.len() as u32) }
}

/// Forwards panic messages to the host (with the `std` feature).
#[cfg(feature = "std")]
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload_as_str().unwrap_or("(a panic payload that is not a string)");
        match info.location() {
            Some(at) => report_panic(&alloc::format!("{message} (at {at})")),
            None => report_panic(message),
        }
    }));
}

/// Sets up the runtime: panic forwarding and logging (called first by
/// the generated `scion_init`).
pub fn init_runtime() {
    #[cfg(feature = "std")]
    install_panic_hook();
    init_logging();
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let msg = alloc::format!("{}", record.args());
        let target = record.target();
        // SAFETY: the host reads the two buffers during the call.
        unsafe {
            host_log(
                record.level() as i32,
                target.as_ptr(),
                target.len() as u32,
                msg.as_ptr(),
                msg.len() as u32,
            )
        }
    }
    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// Routes the `log` facade to the host (done by the generated `scion_init`).
pub fn init_logging() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
}

struct Slot(UnsafeCell<Option<Box<dyn Any>>>);

// SAFETY: wasm32 plugins run single-threaded; the host never calls into one
// instance from two threads at once.
unsafe impl Sync for Slot {}

static INSTANCE: Slot = Slot(UnsafeCell::new(None));

/// Installs the plugin instance (done by the generated `scion_init`).
pub fn set_instance<T: 'static>(value: T) {
    // SAFETY: single-threaded; no reference from `instance` is alive while
    // `scion_init` runs.
    unsafe { *INSTANCE.0.get() = Some(Box::new(value)) }
}

/// The plugin instance.
///
/// # Panics
/// If `scion_init` has not run (the host always runs it first).
pub fn instance<T: 'static>() -> &'static mut T {
    // SAFETY: single-threaded, and each export holds the reference only for
    // the duration of one call.
    let slot = unsafe { &mut *INSTANCE.0.get() };
    slot.as_mut().and_then(|b| b.downcast_mut::<T>()).expect("the plugin is not initialised")
}

/// Takes ownership of an input buffer the host wrote.
///
/// # Safety
/// `ptr`/`len` must be a buffer from `scion_alloc(len)` that the host
/// filled and hands over.
pub unsafe fn take_input(ptr: *mut u8, len: u32) -> Vec<u8> {
    // SAFETY: forwarded from the caller.
    let bytes = unsafe { core::slice::from_raw_parts(ptr, len as usize) }.to_vec();
    // SAFETY: as above.
    unsafe { scion_free(ptr, len) };
    bytes
}

/// Decodes call arguments, trapping with a message if the host sent
/// something else (the schema check at load makes this a host bug).
pub fn decode_args<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> T {
    match wire::decode(bytes) {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// Encodes a reply into a fresh buffer the host frees; returns it packed.
pub fn reply<T: serde::Serialize + ?Sized>(value: &T) -> i64 {
    let bytes = wire::encode(value).unwrap_or_else(|e| panic!("{e}"));
    let ptr = scion_alloc(bytes.len() as u32);
    if ptr.is_null() {
        panic!("out of memory for a reply of {} bytes", bytes.len());
    }
    // SAFETY: `ptr` is not null and has room for `bytes.len()` bytes.
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len()) };
    wire::pack(ptr as u32, bytes.len() as u32)
}

/// Calls a serialized host import and decodes its reply.
pub fn call_host<R: serde::de::DeserializeOwned>(
    import: unsafe extern "C" fn(*const u8, u32) -> i64,
    args: &impl serde::Serialize,
) -> Result<R, WireError> {
    let input = wire::encode(args)?;
    // SAFETY: the host reads the input during the call and answers with a
    // buffer it allocated with `scion_alloc`, which we take over.
    let (ptr, len) = wire::unpack(unsafe { import(input.as_ptr(), input.len() as u32) });
    // SAFETY: as above.
    let out = unsafe { take_input(ptr as *mut u8, len) };
    wire::decode(&out)
}

/// Saves the plugin instance's state for hot reload.
pub fn save_state<T: serde::Serialize + 'static>() -> i64 {
    reply(instance::<T>())
}

/// Restores state saved by [`save_state`]; 0 on success, 1 when it does
/// not decode (the host then keeps the old version, see `scion::reload`).
///
/// # Safety
/// As [`take_input`].
pub unsafe fn restore_state<T: serde::de::DeserializeOwned + 'static>(
    ptr: *mut u8,
    len: u32,
) -> i32 {
    // SAFETY: forwarded from the caller.
    let bytes = unsafe { take_input(ptr, len) };
    match wire::decode::<T>(&bytes) {
        Ok(state) => {
            set_instance(state);
            0
        }
        Err(e) => {
            report_panic(&alloc::format!("cannot restore the saved state: {e}"));
            1
        }
    }
}
