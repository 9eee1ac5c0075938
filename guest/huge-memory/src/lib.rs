//! A plugin whose module declares 4 GiB of initial memory.

/// Returns its argument.
#[unsafe(no_mangle)]
pub extern "C" fn id(x: u32) -> u32 {
    x
}
