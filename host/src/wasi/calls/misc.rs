//! Arguments, environment, clocks, random bytes, scheduling and the
//! sockets calls (which WASI preview 1 programs cannot create sockets for).

use crate::wasi::ctx::WasiCtx;
use crate::wasi::errno::{Errno, WasiResult};
use crate::wasi::memory::GuestMemory;

/// Writes `items` as NUL-terminated strings into `buf`, with a pointer to
/// each at `ptrs`.
fn write_strings(
    m: &mut GuestMemory<'_>,
    items: impl Iterator<Item = Vec<u8>>,
    ptrs: i32,
    buf: i32,
) -> WasiResult<()> {
    let (mut ptr, mut at) = (ptrs as u32, buf as u32);
    for mut item in items {
        item.push(0);
        m.write_bytes(at, &item)?;
        m.set_u32(ptr, at)?;
        let len = u32::try_from(item.len()).map_err(|_| Errno::OVERFLOW)?;
        at = at.checked_add(len).ok_or(Errno::FAULT)?;
        ptr = ptr.checked_add(4).ok_or(Errno::FAULT)?;
    }
    Ok(())
}

/// Writes the count and total size (NULs included) of `items`.
fn write_sizes(
    m: &mut GuestMemory<'_>,
    items: impl Iterator<Item = usize>,
    count: i32,
    size: i32,
) -> WasiResult<()> {
    let (mut n, mut total) = (0u32, 0u32);
    for len in items {
        n = n.checked_add(1).ok_or(Errno::OVERFLOW)?;
        let len = u32::try_from(len).map_err(|_| Errno::OVERFLOW)?;
        total = total.checked_add(len).and_then(|t| t.checked_add(1)).ok_or(Errno::OVERFLOW)?;
    }
    m.set_u32(count as u32, n)?;
    m.set_u32(size as u32, total)
}

fn env_entry((k, v): &(String, String)) -> Vec<u8> {
    format!("{k}={v}").into_bytes()
}

pub(super) fn args_get(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    argv: i32,
    buf: i32,
) -> WasiResult<()> {
    write_strings(m, c.args.iter().map(|a| a.clone().into_bytes()), argv, buf)
}

pub(super) fn args_sizes_get(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    count: i32,
    size: i32,
) -> WasiResult<()> {
    write_sizes(m, c.args.iter().map(String::len), count, size)
}

pub(super) fn environ_get(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    env: i32,
    buf: i32,
) -> WasiResult<()> {
    write_strings(m, c.env.iter().map(env_entry), env, buf)
}

pub(super) fn environ_sizes_get(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    count: i32,
    size: i32,
) -> WasiResult<()> {
    write_sizes(m, c.env.iter().map(|(k, v)| k.len() + 1 + v.len()), count, size)
}

pub(super) fn clock_res_get(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    id: i32,
    out: i32,
) -> WasiResult<()> {
    let res = c.clock.resolution(id as u32)?;
    m.set_u64(out as u32, res)
}

pub(super) fn clock_time_get(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    id: i32,
    _precision: i64,
    out: i32,
) -> WasiResult<()> {
    let now = c.clock.now(id as u32)?;
    m.set_u64(out as u32, now)
}

pub(super) fn random_get(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    buf: i32,
    len: i32,
) -> WasiResult<()> {
    let bytes = m.bytes_mut(buf as u32, len as u32)?;
    c.random_fill(bytes)
}

pub(super) fn sched_yield(_: &mut WasiCtx, _: &mut GuestMemory<'_>) -> WasiResult<()> {
    std::thread::yield_now();
    Ok(())
}

/// A sockets call on `fd`: no descriptor a program can have is a socket.
fn not_a_socket(c: &WasiCtx, fd: i32) -> WasiResult<()> {
    c.fds.get(fd as u32)?;
    Err(Errno::NOTSOCK)
}

pub(super) fn sock_accept(
    c: &mut WasiCtx,
    _: &mut GuestMemory<'_>,
    fd: i32,
    _: i32,
    _: i32,
) -> WasiResult<()> {
    not_a_socket(c, fd)
}

pub(super) fn sock_recv(
    c: &mut WasiCtx,
    _: &mut GuestMemory<'_>,
    fd: i32,
    _: i32,
    _: i32,
    _: i32,
    _: i32,
    _: i32,
) -> WasiResult<()> {
    not_a_socket(c, fd)
}

pub(super) fn sock_send(
    c: &mut WasiCtx,
    _: &mut GuestMemory<'_>,
    fd: i32,
    _: i32,
    _: i32,
    _: i32,
    _: i32,
) -> WasiResult<()> {
    not_a_socket(c, fd)
}

pub(super) fn sock_shutdown(
    c: &mut WasiCtx,
    _: &mut GuestMemory<'_>,
    fd: i32,
    _: i32,
) -> WasiResult<()> {
    not_a_socket(c, fd)
}
