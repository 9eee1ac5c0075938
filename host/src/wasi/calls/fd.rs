//! The `fd_*` calls: reading, writing, seeking and describing open
//! descriptors.

use crate::wasi::ctx::WasiCtx;
use crate::wasi::errno::{Errno, WasiResult};
use crate::wasi::fs::{Desc, Filestat, fdflags, filetype, rights};
use crate::wasi::memory::{GuestMemory, IoVec, total_len};
use std::io::{Read, SeekFrom, Write};
use system_interface::fs::{Advice, FileIoExt};

fn fd_of(fd: i32) -> u32 {
    fd as u32
}

/// A 64-bit offset or length the program passed as `i64`.
fn unsigned(v: i64) -> WasiResult<u64> {
    u64::try_from(v).map_err(|_| Errno::INVAL)
}

pub(super) fn advise(
    c: &mut WasiCtx,
    _: &mut GuestMemory<'_>,
    fd: i32,
    offset: i64,
    len: i64,
    advice: i32,
) -> WasiResult<()> {
    let f = c.fds.get(fd_of(fd))?.file()?;
    f.need(rights::FD_ADVISE)?;
    let advice = match advice {
        0 => Advice::Normal,
        1 => Advice::Sequential,
        2 => Advice::Random,
        3 => Advice::WillNeed,
        4 => Advice::DontNeed,
        5 => Advice::NoReuse,
        _ => return Err(Errno::INVAL),
    };
    Ok(f.file.advise(unsigned(offset)?, unsigned(len)?, advice)?)
}

pub(super) fn allocate(
    c: &mut WasiCtx,
    _: &mut GuestMemory<'_>,
    fd: i32,
    offset: i64,
    len: i64,
) -> WasiResult<()> {
    let f = c.fds.get(fd_of(fd))?.file()?;
    f.need(rights::FD_ALLOCATE)?;
    if !f.write {
        return Err(Errno::BADF);
    }
    let (offset, len) = (unsigned(offset)?, unsigned(len)?);
    offset.checked_add(len).filter(|e| *e <= i64::MAX as u64).ok_or(Errno::FBIG)?;
    Ok(f.file.allocate(offset, len)?)
}

pub(super) fn close(c: &mut WasiCtx, _: &mut GuestMemory<'_>, fd: i32) -> WasiResult<()> {
    c.fds.remove(fd_of(fd)).map(drop)
}

pub(super) fn datasync(c: &mut WasiCtx, _: &mut GuestMemory<'_>, fd: i32) -> WasiResult<()> {
    match c.fds.get(fd_of(fd))? {
        Desc::File(f) => {
            f.need(rights::FD_DATASYNC)?;
            Ok(f.file.sync_data()?)
        }
        Desc::Dir(_) => Err(Errno::BADF),
        Desc::Stream(_) => Err(Errno::INVAL),
    }
}

pub(super) fn sync(c: &mut WasiCtx, _: &mut GuestMemory<'_>, fd: i32) -> WasiResult<()> {
    match c.fds.get(fd_of(fd))? {
        Desc::File(f) => {
            f.need(rights::FD_SYNC)?;
            Ok(f.file.sync_all()?)
        }
        Desc::Dir(_) => Ok(()),
        Desc::Stream(_) => Err(Errno::INVAL),
    }
}

pub(super) fn fdstat_get(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    out: i32,
) -> WasiResult<()> {
    let stat = c.fds.get(fd_of(fd))?.fdstat();
    m.write_bytes(out as u32, &stat)
}

pub(super) fn fdstat_set_flags(
    c: &mut WasiCtx,
    _: &mut GuestMemory<'_>,
    fd: i32,
    flags: i32,
) -> WasiResult<()> {
    let flags = u16::try_from(flags).map_err(|_| Errno::INVAL)?;
    match c.fds.get_mut(fd_of(fd))? {
        Desc::File(f) => {
            f.need(rights::FD_FDSTAT_SET_FLAGS)?;
            if flags & (fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
                return Err(Errno::NOTSUP);
            }
            let append = flags & fdflags::APPEND != 0;
            set_os_flags(&f.file, append, flags & fdflags::NONBLOCK != 0)?;
            f.append = append;
            f.fdflags = flags;
            Ok(())
        }
        Desc::Dir(_) | Desc::Stream(_) => {
            if flags & !fdflags::NONBLOCK != 0 {
                Err(Errno::NOTSUP)
            } else {
                Ok(())
            }
        }
    }
}

/// Sets `O_APPEND` and `O_NONBLOCK` on an open file.
pub(super) fn set_os_flags(
    file: &cap_std::fs::File,
    append: bool,
    nonblock: bool,
) -> WasiResult<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this file owns, with integer
    // arguments only.
    let cur = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if cur < 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    let mut next = cur & !(libc::O_APPEND | libc::O_NONBLOCK);
    if append {
        next |= libc::O_APPEND;
    }
    if nonblock {
        next |= libc::O_NONBLOCK;
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, next) } < 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    Ok(())
}

pub(super) fn fdstat_set_rights(
    c: &mut WasiCtx,
    _: &mut GuestMemory<'_>,
    fd: i32,
    base: i64,
    inheriting: i64,
) -> WasiResult<()> {
    let (base, inheriting) = (base as u64, inheriting as u64);
    match c.fds.get_mut(fd_of(fd))? {
        Desc::File(f) => {
            if base & !f.rights != 0 || inheriting & !f.inheriting != 0 {
                return Err(Errno::NOTCAPABLE);
            }
            f.rights = base;
            f.inheriting = inheriting;
            Ok(())
        }
        Desc::Dir(d) => {
            if base & !d.rights != 0 || inheriting & !d.inheriting != 0 {
                return Err(Errno::NOTCAPABLE);
            }
            d.rights = base;
            d.inheriting = inheriting;
            Ok(())
        }
        // Streams keep their fixed rights; asking for more than they have
        // is refused all the same.
        d => {
            let stat = d.fdstat();
            let have = u64::from_le_bytes(stat[8..16].try_into().map_err(|_| Errno::INVAL)?);
            let have_inh = u64::from_le_bytes(stat[16..24].try_into().map_err(|_| Errno::INVAL)?);
            if base & !have != 0 || inheriting & !have_inh != 0 {
                return Err(Errno::NOTCAPABLE);
            }
            Ok(())
        }
    }
}

pub(super) fn filestat_get(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    out: i32,
) -> WasiResult<()> {
    let stat = match c.fds.get(fd_of(fd))? {
        Desc::File(f) => {
            f.need(rights::FD_FILESTAT_GET)?;
            Filestat::of(&f.file.metadata()?)
        }
        Desc::Dir(d) => Filestat::of(&d.dir.dir_metadata()?),
        Desc::Stream(_) => Filestat::stream(),
    };
    m.write_bytes(out as u32, &stat.bytes())
}

pub(super) fn filestat_set_size(
    c: &mut WasiCtx,
    _: &mut GuestMemory<'_>,
    fd: i32,
    size: i64,
) -> WasiResult<()> {
    let f = c.fds.get(fd_of(fd))?.file()?;
    f.need(rights::FD_FILESTAT_SET_SIZE)?;
    if !f.write {
        return Err(Errno::BADF);
    }
    Ok(f.file.set_len(unsigned(size)?)?)
}

/// `fst_flags` bits.
pub(super) const ATIM: u16 = 1 << 0;
pub(super) const ATIM_NOW: u16 = 1 << 1;
pub(super) const MTIM: u16 = 1 << 2;
pub(super) const MTIM_NOW: u16 = 1 << 3;

/// The times `fst_flags` asks to set (`None`: leave as is).
pub(super) fn time_specs(
    atim: i64,
    mtim: i64,
    flags: i32,
) -> WasiResult<(Option<fs_set_times::SystemTimeSpec>, Option<fs_set_times::SystemTimeSpec>)> {
    use fs_set_times::SystemTimeSpec;
    let flags = u16::try_from(flags).map_err(|_| Errno::INVAL)?;
    if flags & !(ATIM | ATIM_NOW | MTIM | MTIM_NOW) != 0
        || flags & (ATIM | ATIM_NOW) == ATIM | ATIM_NOW
        || flags & (MTIM | MTIM_NOW) == MTIM | MTIM_NOW
    {
        return Err(Errno::INVAL);
    }
    let at = |t: i64| {
        std::time::SystemTime::UNIX_EPOCH
            .checked_add(std::time::Duration::from_nanos(t as u64))
            .map(SystemTimeSpec::Absolute)
            .ok_or(Errno::OVERFLOW)
    };
    let a = if flags & ATIM_NOW != 0 {
        Some(SystemTimeSpec::SymbolicNow)
    } else if flags & ATIM != 0 {
        Some(at(atim)?)
    } else {
        None
    };
    let m = if flags & MTIM_NOW != 0 {
        Some(SystemTimeSpec::SymbolicNow)
    } else if flags & MTIM != 0 {
        Some(at(mtim)?)
    } else {
        None
    };
    Ok((a, m))
}

pub(super) fn filestat_set_times(
    c: &mut WasiCtx,
    _: &mut GuestMemory<'_>,
    fd: i32,
    atim: i64,
    mtim: i64,
    flags: i32,
) -> WasiResult<()> {
    use fs_set_times::SetTimes;
    let (a, m) = time_specs(atim, mtim, flags)?;
    match c.fds.get(fd_of(fd))? {
        Desc::File(f) => {
            f.need(rights::FD_FILESTAT_SET_TIMES)?;
            Ok(f.file.set_times(a, m)?)
        }
        Desc::Dir(d) => {
            if !crate::wasi::ctx::writable(d.perms) {
                return Err(Errno::NOTCAPABLE);
            }
            Ok(d.dir.set_times(a, m)?)
        }
        Desc::Stream(_) => Err(Errno::BADF),
    }
}

/// Reads into the program's buffers, one after the other, until one is
/// not filled.
fn read_into(
    m: &mut GuestMemory<'_>,
    iovs: &[IoVec],
    mut read: impl FnMut(&mut [u8]) -> WasiResult<usize>,
) -> WasiResult<u32> {
    let mut total: u32 = 0;
    for v in iovs {
        let buf = m.bytes_mut(v.ptr, v.len)?;
        let n = read(buf)?;
        total = total.checked_add(n as u32).ok_or(Errno::OVERFLOW)?;
        if n < buf.len() {
            break;
        }
    }
    Ok(total)
}

/// The bytes of the program's buffers, gathered.
fn gather(m: &GuestMemory<'_>, iovs: &[IoVec]) -> WasiResult<Vec<u8>> {
    let total = total_len(iovs);
    if total > u32::MAX as u64 {
        return Err(Errno::INVAL);
    }
    let mut out = Vec::with_capacity(total as usize);
    for v in iovs {
        out.extend_from_slice(m.bytes(v.ptr, v.len)?);
    }
    Ok(out)
}

pub(super) fn read(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    iovs: i32,
    count: i32,
    out: i32,
) -> WasiResult<()> {
    let iovs = m.iovecs(iovs as u32, count as u32)?;
    let n = match c.fds.get_mut(fd_of(fd))? {
        Desc::Stream(s) => read_into(m, &iovs, |b| s.read(b))?,
        Desc::File(f) => {
            f.need(rights::FD_READ)?;
            if !f.read {
                return Err(Errno::BADF);
            }
            read_into(m, &iovs, |b| Ok(f.file.read(b)?))?
        }
        Desc::Dir(_) => return Err(Errno::ISDIR),
    };
    m.set_u32(out as u32, n)
}

pub(super) fn pread(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    iovs: i32,
    count: i32,
    offset: i64,
    out: i32,
) -> WasiResult<()> {
    let iovs = m.iovecs(iovs as u32, count as u32)?;
    let mut offset = unsigned(offset)?;
    let f = match c.fds.get(fd_of(fd))? {
        Desc::File(f) => f,
        Desc::Dir(_) => return Err(Errno::ISDIR),
        Desc::Stream(_) => return Err(Errno::SPIPE),
    };
    f.need(rights::FD_READ | rights::FD_SEEK)?;
    if !f.read {
        return Err(Errno::BADF);
    }
    let n = read_into(m, &iovs, |b| {
        let n = f.file.read_at(b, offset)?;
        offset = offset.saturating_add(n as u64);
        Ok(n)
    })?;
    m.set_u32(out as u32, n)
}

pub(super) fn write(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    iovs: i32,
    count: i32,
    out: i32,
) -> WasiResult<()> {
    let iovs = m.iovecs(iovs as u32, count as u32)?;
    let data = gather(m, &iovs)?;
    match c.fds.get_mut(fd_of(fd))? {
        Desc::Stream(s) => s.write(&data)?,
        Desc::File(f) => {
            f.need(rights::FD_WRITE)?;
            if !f.write {
                return Err(Errno::BADF);
            }
            f.file.write_all(&data)?;
        }
        Desc::Dir(_) => return Err(Errno::BADF),
    }
    m.set_u32(out as u32, data.len() as u32)
}

pub(super) fn pwrite(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    iovs: i32,
    count: i32,
    offset: i64,
    out: i32,
) -> WasiResult<()> {
    let iovs = m.iovecs(iovs as u32, count as u32)?;
    let data = gather(m, &iovs)?;
    let offset = unsigned(offset)?;
    let f = seekable(c.fds.get(fd_of(fd))?)?;
    f.need(rights::FD_WRITE | rights::FD_SEEK)?;
    if !f.write {
        return Err(Errno::BADF);
    }
    offset.checked_add(data.len() as u64).filter(|e| *e <= i64::MAX as u64).ok_or(Errno::FBIG)?;
    // With `O_APPEND`, Linux writes at the end; either way the file's
    // offset does not move.
    f.file.write_all_at(&data, offset)?;
    m.set_u32(out as u32, data.len() as u32)
}

/// The file behind a call that needs a position (`fd_seek`, `fd_tell`,
/// `fd_pwrite`): a stream has none (`ESPIPE`), a directory is not one.
fn seekable(desc: &Desc) -> WasiResult<&crate::wasi::fs::FileDesc> {
    match desc {
        Desc::File(f) => Ok(f),
        Desc::Dir(_) => Err(Errno::BADF),
        Desc::Stream(_) => Err(Errno::SPIPE),
    }
}

pub(super) fn prestat_get(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    out: i32,
) -> WasiResult<()> {
    let Desc::Dir(d) = c.fds.get(fd_of(fd))? else { return Err(Errno::BADF) };
    let name = d.preopen.as_ref().ok_or(Errno::BADF)?;
    let len = u32::try_from(name.len()).map_err(|_| Errno::NAMETOOLONG)?;
    m.set_u32(out as u32, 0)?; // the tag: a directory
    m.set_u32((out as u32).checked_add(4).ok_or(Errno::FAULT)?, len)
}

pub(super) fn prestat_dir_name(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    buf: i32,
    len: i32,
) -> WasiResult<()> {
    let Desc::Dir(d) = c.fds.get(fd_of(fd))? else { return Err(Errno::BADF) };
    let name = d.preopen.as_ref().ok_or(Errno::BADF)?;
    if (len as u32 as usize) < name.len() {
        return Err(Errno::NAMETOOLONG);
    }
    m.write_bytes(buf as u32, name.as_bytes())
}

pub(super) fn renumber(
    c: &mut WasiCtx,
    _: &mut GuestMemory<'_>,
    from: i32,
    to: i32,
) -> WasiResult<()> {
    c.fds.renumber(fd_of(from), fd_of(to))
}

pub(super) fn seek(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    offset: i64,
    whence: i32,
    out: i32,
) -> WasiResult<()> {
    let f = seekable(c.fds.get(fd_of(fd))?)?;
    let pos = match whence {
        0 => SeekFrom::Start(unsigned(offset)?),
        1 => SeekFrom::Current(offset),
        2 => SeekFrom::End(offset),
        _ => return Err(Errno::INVAL),
    };
    let needed =
        if matches!(pos, SeekFrom::Current(0)) { rights::FD_TELL } else { rights::FD_SEEK };
    f.need(needed)?;
    let at = FileIoExt::seek(&f.file, pos)?;
    m.set_u64(out as u32, at)
}

pub(super) fn tell(c: &mut WasiCtx, m: &mut GuestMemory<'_>, fd: i32, out: i32) -> WasiResult<()> {
    let f = seekable(c.fds.get(fd_of(fd))?)?;
    f.need(rights::FD_TELL)?;
    let at = f.file.stream_position()?;
    m.set_u64(out as u32, at)
}

/// Bytes of a `dirent` before its name.
const DIRENT_SIZE: usize = 24;

pub(super) fn readdir(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    buf: i32,
    len: i32,
    cookie: i64,
    out: i32,
) -> WasiResult<()> {
    use cap_std::fs::MetadataExt;
    let d = c.fds.get(fd_of(fd))?.dir()?;
    let here = d.dir.dir_metadata()?;
    let mut entries: Vec<(Vec<u8>, u64, u8)> = vec![
        (b".".to_vec(), here.ino(), filetype::DIRECTORY),
        (b"..".to_vec(), 0, filetype::DIRECTORY),
    ];
    let mut rest = Vec::new();
    for e in d.dir.entries()? {
        let e = e?;
        let t = e.file_type().map(crate::wasi::fs::wasi_filetype).unwrap_or(filetype::UNKNOWN);
        use std::os::unix::ffi::OsStrExt;
        let ino = e.metadata().map(|m| m.ino()).unwrap_or(0);
        rest.push((e.file_name().as_bytes().to_vec(), ino, t));
    }
    rest.sort();
    entries.extend(rest);
    let cap = len as u32 as usize;
    let mut bytes = Vec::with_capacity(cap.min(1 << 16));
    let start = usize::try_from(cookie as u64).unwrap_or(usize::MAX);
    for (i, (name, ino, t)) in entries.iter().enumerate().skip(start) {
        if bytes.len() >= cap {
            break;
        }
        let mut ent = Vec::with_capacity(DIRENT_SIZE + name.len());
        ent.extend_from_slice(&(i as u64 + 1).to_le_bytes());
        ent.extend_from_slice(&ino.to_le_bytes());
        ent.extend_from_slice(&(name.len() as u32).to_le_bytes());
        ent.extend_from_slice(&[*t, 0, 0, 0]);
        ent.extend_from_slice(name);
        bytes.extend_from_slice(&ent);
    }
    // A buffer too small for the last entry gets its first bytes: a full
    // buffer tells the program to ask again with a bigger one.
    bytes.truncate(cap);
    m.write_bytes(buf as u32, &bytes)?;
    m.set_u32(out as u32, bytes.len() as u32)
}
