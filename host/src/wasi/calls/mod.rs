//! The `wasi_snapshot_preview1` functions, defined in a [`Linker`]: each
//! one finds the calling instance's memory and the program's
//! [`WasiCtx`], runs, and returns its errno.

// Each function takes the arguments its WASI signature has.
#[allow(clippy::too_many_arguments)]
mod fd;
#[allow(clippy::too_many_arguments)]
mod misc;
#[allow(clippy::too_many_arguments)]
mod path;

use super::ctx::WasiCtx;
use super::errno::{Errno, WasiResult};
use super::memory::GuestMemory;
use super::{Exit, MODULE};
use crate::{Caller, Linker, Store, Trap, TrapCode};

/// The errno a call returns.
fn errno(r: WasiResult<()>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => e.0 as i32,
    }
}

/// Runs `f` with the caller's memory and WASI state. A module without an
/// exported `memory` cannot pass pointers: every call fails with `EFAULT`
/// (`ENOSYS` would claim the function is missing).
fn with_ctx<T>(
    caller: &mut Caller<'_, T>,
    ctx: fn(&mut T) -> &mut WasiCtx,
    f: impl FnOnce(&mut WasiCtx, &mut GuestMemory<'_>) -> WasiResult<()>,
) -> i32 {
    let Some(memory) = caller.get_memory("memory") else {
        return Errno::FAULT.0 as i32;
    };
    let (data, host) = memory.data_and_store_mut(caller);
    errno(f(ctx(host), &mut GuestMemory(data)))
}

/// Defines a WASI function whose body is `fn(ctx, mem, args..)`.
macro_rules! wasi {
    ($linker:ident, $store:ident, $ctx:ident, $name:literal, $f:path, ($($arg:ident: $ty:ty),*)) => {
        $linker.func_wrap(
            $store,
            MODULE,
            $name,
            move |mut caller: Caller<'_, T>, ($($arg,)*): ($($ty,)*)| -> i32 {
                with_ctx(&mut caller, $ctx, |c, m| $f(c, m, $($arg),*))
            },
        );
    };
}

/// Defines every function of the module.
pub(super) fn define<T: 'static>(
    linker: &mut Linker<T>,
    store: &mut Store<T>,
    ctx: fn(&mut T) -> &mut WasiCtx,
) {
    let (l, s, c) = (linker, store, ctx);
    wasi!(l, s, c, "args_get", misc::args_get, (argv: i32, buf: i32));
    wasi!(l, s, c, "args_sizes_get", misc::args_sizes_get, (count: i32, size: i32));
    wasi!(l, s, c, "environ_get", misc::environ_get, (environ: i32, buf: i32));
    wasi!(l, s, c, "environ_sizes_get", misc::environ_sizes_get, (count: i32, size: i32));
    wasi!(l, s, c, "clock_res_get", misc::clock_res_get, (id: i32, out: i32));
    wasi!(l, s, c, "clock_time_get", misc::clock_time_get, (id: i32, precision: i64, out: i32));
    wasi!(l, s, c, "random_get", misc::random_get, (buf: i32, len: i32));
    wasi!(l, s, c, "sched_yield", misc::sched_yield, ());
    wasi!(l, s, c, "sock_accept", misc::sock_accept, (fd: i32, flags: i32, out: i32));
    wasi!(l, s, c, "sock_recv", misc::sock_recv, (fd: i32, a: i32, b: i32, d: i32, e: i32, f: i32));
    wasi!(l, s, c, "sock_send", misc::sock_send, (fd: i32, a: i32, b: i32, d: i32, e: i32));
    wasi!(l, s, c, "sock_shutdown", misc::sock_shutdown, (fd: i32, how: i32));

    wasi!(l, s, c, "fd_advise", fd::advise, (fd: i32, offset: i64, len: i64, advice: i32));
    wasi!(l, s, c, "fd_allocate", fd::allocate, (fd: i32, offset: i64, len: i64));
    wasi!(l, s, c, "fd_close", fd::close, (fd: i32));
    wasi!(l, s, c, "fd_datasync", fd::datasync, (fd: i32));
    wasi!(l, s, c, "fd_fdstat_get", fd::fdstat_get, (fd: i32, out: i32));
    wasi!(l, s, c, "fd_fdstat_set_flags", fd::fdstat_set_flags, (fd: i32, flags: i32));
    wasi!(l, s, c, "fd_fdstat_set_rights", fd::fdstat_set_rights, (fd: i32, base: i64, inheriting: i64));
    wasi!(l, s, c, "fd_filestat_get", fd::filestat_get, (fd: i32, out: i32));
    wasi!(l, s, c, "fd_filestat_set_size", fd::filestat_set_size, (fd: i32, size: i64));
    wasi!(l, s, c, "fd_filestat_set_times", fd::filestat_set_times, (fd: i32, atim: i64, mtim: i64, flags: i32));
    wasi!(l, s, c, "fd_pread", fd::pread, (fd: i32, iovs: i32, count: i32, offset: i64, out: i32));
    wasi!(l, s, c, "fd_prestat_get", fd::prestat_get, (fd: i32, out: i32));
    wasi!(l, s, c, "fd_prestat_dir_name", fd::prestat_dir_name, (fd: i32, buf: i32, len: i32));
    wasi!(l, s, c, "fd_pwrite", fd::pwrite, (fd: i32, iovs: i32, count: i32, offset: i64, out: i32));
    wasi!(l, s, c, "fd_read", fd::read, (fd: i32, iovs: i32, count: i32, out: i32));
    wasi!(l, s, c, "fd_readdir", fd::readdir, (fd: i32, buf: i32, len: i32, cookie: i64, out: i32));
    wasi!(l, s, c, "fd_renumber", fd::renumber, (from: i32, to: i32));
    wasi!(l, s, c, "fd_seek", fd::seek, (fd: i32, offset: i64, whence: i32, out: i32));
    wasi!(l, s, c, "fd_sync", fd::sync, (fd: i32));
    wasi!(l, s, c, "fd_tell", fd::tell, (fd: i32, out: i32));
    wasi!(l, s, c, "fd_write", fd::write, (fd: i32, iovs: i32, count: i32, out: i32));

    wasi!(l, s, c, "path_create_directory", path::create_directory, (fd: i32, ptr: i32, len: i32));
    wasi!(l, s, c, "path_filestat_get", path::filestat_get, (fd: i32, flags: i32, ptr: i32, len: i32, out: i32));
    wasi!(l, s, c, "path_filestat_set_times", path::filestat_set_times,
        (fd: i32, flags: i32, ptr: i32, len: i32, atim: i64, mtim: i64, fst: i32));
    wasi!(l, s, c, "path_link", path::link,
        (fd: i32, flags: i32, ptr: i32, len: i32, to_fd: i32, to_ptr: i32, to_len: i32));
    wasi!(l, s, c, "path_open", path::open,
        (fd: i32, dirflags: i32, ptr: i32, len: i32, oflags: i32, base: i64, inheriting: i64, fdflags: i32, out: i32));
    wasi!(l, s, c, "path_readlink", path::readlink, (fd: i32, ptr: i32, len: i32, buf: i32, buf_len: i32, out: i32));
    wasi!(l, s, c, "path_remove_directory", path::remove_directory, (fd: i32, ptr: i32, len: i32));
    wasi!(l, s, c, "path_rename", path::rename, (fd: i32, ptr: i32, len: i32, to_fd: i32, to_ptr: i32, to_len: i32));
    wasi!(l, s, c, "path_symlink", path::symlink, (ptr: i32, len: i32, fd: i32, to_ptr: i32, to_len: i32));
    wasi!(l, s, c, "path_unlink_file", path::unlink_file, (fd: i32, ptr: i32, len: i32));

    l.func_wrap(s, MODULE, "proc_exit", |_: Caller<'_, T>, code: i32| -> crate::Result<()> {
        let mut trap = Trap::new(TrapCode::HostError);
        trap.host_error = Some(Box::new(Exit(code as u32)));
        Err(crate::Error::Trap(trap))
    });
    l.func_wrap(s, MODULE, "proc_raise", |_: Caller<'_, T>, _sig: i32| -> i32 {
        Errno::NOTSUP.0 as i32
    });
    l.func_wrap(
        s,
        MODULE,
        "poll_oneoff",
        move |mut caller: Caller<'_, T>, (subs, events, count, out): (i32, i32, i32, i32)| {
            super::poll::poll_oneoff(
                &mut caller,
                c,
                subs as u32,
                events as u32,
                count as u32,
                out as u32,
            )
        },
    );
}
