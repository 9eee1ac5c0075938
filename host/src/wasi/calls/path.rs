//! The `path_*` calls: every path is resolved by `cap-std` beneath the
//! directory descriptor it is relative to, so none can leave it; a
//! directory granted read-only refuses every call that would change
//! something under it with `ENOTCAPABLE`.

use crate::wasi::ctx::{WasiCtx, writable};
use crate::wasi::errno::{Errno, WasiResult};
use crate::wasi::fs::{Desc, DirDesc, FileDesc, Filestat, fdflags, rights};
use crate::wasi::memory::GuestMemory;
use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, OpenOptionsSyncExt,
};

/// `lookupflags`: follow a final symbolic link.
const SYMLINK_FOLLOW: i32 = 1;

/// `oflags`.
const O_CREAT: u16 = 1 << 0;
const O_DIRECTORY: u16 = 1 << 1;
const O_EXCL: u16 = 1 << 2;
const O_TRUNC: u16 = 1 << 3;

/// The directory descriptor `fd`.
fn dir(c: &WasiCtx, fd: i32) -> WasiResult<&DirDesc> {
    c.fds.get(fd as u32)?.dir()
}

/// The directory descriptor `fd`, which must allow changes.
fn dir_to_change(c: &WasiCtx, fd: i32) -> WasiResult<&DirDesc> {
    let d = dir(c, fd)?;
    if !writable(d.perms) {
        return Err(Errno::NOTCAPABLE);
    }
    Ok(d)
}

fn path<'m>(m: &'m GuestMemory<'_>, ptr: i32, len: i32) -> WasiResult<&'m str> {
    m.str(ptr as u32, len as u32)
}

pub(super) fn create_directory(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    ptr: i32,
    len: i32,
) -> WasiResult<()> {
    let d = dir_to_change(c, fd)?;
    Ok(d.dir.create_dir(path(m, ptr, len)?)?)
}

pub(super) fn filestat_get(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    flags: i32,
    ptr: i32,
    len: i32,
    out: i32,
) -> WasiResult<()> {
    let d = dir(c, fd)?;
    let p = path(m, ptr, len)?;
    let meta =
        if flags & SYMLINK_FOLLOW != 0 { d.dir.metadata(p)? } else { d.dir.symlink_metadata(p)? };
    m.write_bytes(out as u32, &Filestat::of(&meta).bytes())
}

pub(super) fn filestat_set_times(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    flags: i32,
    ptr: i32,
    len: i32,
    atim: i64,
    mtim: i64,
    fst: i32,
) -> WasiResult<()> {
    let (a, t) = super::fd::time_specs(atim, mtim, fst)?;
    let (a, t) =
        (a.map(cap_fs_ext::SystemTimeSpec::from_std), t.map(cap_fs_ext::SystemTimeSpec::from_std));
    let d = dir_to_change(c, fd)?;
    let p = path(m, ptr, len)?;
    if flags & SYMLINK_FOLLOW != 0 {
        Ok(d.dir.set_times(p, a, t)?)
    } else {
        Ok(d.dir.set_symlink_times(p, a, t)?)
    }
}

pub(super) fn link(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    flags: i32,
    ptr: i32,
    len: i32,
    to_fd: i32,
    to_ptr: i32,
    to_len: i32,
) -> WasiResult<()> {
    // Linking the target of a symbolic link is not offered (Linux's
    // `linkat` with `AT_SYMLINK_FOLLOW` could reach outside the preopen).
    if flags & SYMLINK_FOLLOW != 0 {
        return Err(Errno::INVAL);
    }
    let from = dir(c, fd)?;
    let to = dir_to_change(c, to_fd)?;
    Ok(from.dir.hard_link(path(m, ptr, len)?, &to.dir, path(m, to_ptr, to_len)?)?)
}

pub(super) fn open(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    dirflags: i32,
    ptr: i32,
    len: i32,
    oflags: i32,
    base: i64,
    inheriting: i64,
    fdflags_in: i32,
    out: i32,
) -> WasiResult<()> {
    let oflags = u16::try_from(oflags).map_err(|_| Errno::INVAL)?;
    let flags = u16::try_from(fdflags_in).map_err(|_| Errno::INVAL)?;
    let (base, inheriting) = (base as u64, inheriting as u64);
    let d = dir(c, fd)?;
    let p = path(m, ptr, len)?;
    let follow =
        if dirflags & SYMLINK_FOLLOW != 0 { FollowSymlinks::Yes } else { FollowSymlinks::No };
    let read = base & (rights::FD_READ | rights::FD_READDIR) != 0;
    let write = base
        & (rights::FD_DATASYNC
            | rights::FD_WRITE
            | rights::FD_ALLOCATE
            | rights::FD_FILESTAT_SET_SIZE)
        != 0
        || flags & fdflags::APPEND != 0;
    let changes = write || oflags & (O_CREAT | O_TRUNC) != 0;
    if changes && !writable(d.perms) {
        return Err(Errno::NOTCAPABLE);
    }
    if oflags & O_TRUNC != 0 && d.rights & rights::PATH_FILESTAT_SET_SIZE == 0 {
        return Err(Errno::PERM);
    }
    let (perms, parent_inheriting) = (d.perms, d.inheriting);
    let desc = if oflags & O_DIRECTORY != 0 {
        if oflags & (O_CREAT | O_TRUNC) != 0 {
            return Err(Errno::INVAL);
        }
        if write {
            return Err(Errno::ISDIR);
        }
        let dir = match follow {
            FollowSymlinks::Yes => d.dir.open_dir(p)?,
            FollowSymlinks::No => d.dir.open_dir_nofollow(p)?,
        };
        Desc::Dir(DirDesc::new(dir, None, perms, base & parent_inheriting, inheriting))
    } else {
        let mut opts = cap_std::fs::OpenOptions::new();
        // Creating or truncating needs the file open for writing on the
        // host (POSIX allows `O_CREAT` read-only, `std` does not); the
        // descriptor still only writes if the program asked to.
        let os_write = write || oflags & (O_CREAT | O_TRUNC) != 0;
        let append = flags & fdflags::APPEND != 0;
        // `std` refuses to truncate a file opened for appending (POSIX
        // does not): such a file is opened for writing, and made to
        // append once open.
        let append_later = append && oflags & O_TRUNC != 0;
        opts.read(read || !write).write(os_write && (!append || append_later));
        opts.append(append && !append_later);
        if oflags & O_CREAT != 0 {
            if oflags & O_EXCL != 0 {
                opts.create_new(true);
            } else {
                opts.create(true);
            }
        }
        if oflags & O_TRUNC != 0 {
            opts.truncate(true);
        }
        opts.follow(follow);
        opts.maybe_dir(!os_write);
        opts.nonblock(flags & fdflags::NONBLOCK != 0);
        opts.sync(flags & fdflags::SYNC != 0);
        opts.dsync(flags & fdflags::DSYNC != 0);
        opts.rsync(flags & fdflags::RSYNC != 0);
        let file = d.dir.open_with(p, &opts)?;
        if append_later {
            super::fd::set_os_flags(&file, true, flags & fdflags::NONBLOCK != 0)?;
        }
        if file.metadata()?.is_dir() {
            // Opened without O_DIRECTORY but a directory all the same
            // (`open(dir, O_RDONLY)`): a directory descriptor.
            let dir = cap_std::fs::Dir::from_std_file(file.into_std());
            Desc::Dir(DirDesc::new(dir, None, perms, base & parent_inheriting, inheriting))
        } else {
            Desc::File(FileDesc {
                file,
                read,
                write,
                append,
                fdflags: flags,
                rights: base & rights::FILE & parent_inheriting,
                inheriting: inheriting & rights::FILE & parent_inheriting,
            })
        }
    };
    let new = c.fds.insert(desc)?;
    m.set_u32(out as u32, new)
}

pub(super) fn readlink(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    ptr: i32,
    len: i32,
    buf: i32,
    buf_len: i32,
    out: i32,
) -> WasiResult<()> {
    use std::os::unix::ffi::OsStrExt;
    let d = dir(c, fd)?;
    let target = d.dir.read_link_contents(path(m, ptr, len)?)?;
    let bytes = target.as_os_str().as_bytes();
    // As readlink(2): the target truncated to the buffer.
    let n = bytes.len().min(buf_len as u32 as usize);
    m.write_bytes(buf as u32, &bytes[..n])?;
    m.set_u32(out as u32, n as u32)
}

pub(super) fn remove_directory(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    ptr: i32,
    len: i32,
) -> WasiResult<()> {
    let d = dir_to_change(c, fd)?;
    // `rmdir("dir/")` removes `dir`, as on Linux.
    let p = path(m, ptr, len)?;
    let trimmed = p.trim_end_matches('/');
    Ok(d.dir.remove_dir(if trimmed.is_empty() { p } else { trimmed })?)
}

pub(super) fn rename(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    ptr: i32,
    len: i32,
    to_fd: i32,
    to_ptr: i32,
    to_len: i32,
) -> WasiResult<()> {
    let from = dir_to_change(c, fd)?;
    let to = dir_to_change(c, to_fd)?;
    Ok(from.dir.rename(path(m, ptr, len)?, &to.dir, path(m, to_ptr, to_len)?)?)
}

pub(super) fn symlink(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    ptr: i32,
    len: i32,
    fd: i32,
    to_ptr: i32,
    to_len: i32,
) -> WasiResult<()> {
    let d = dir_to_change(c, fd)?;
    Ok(d.dir.symlink(path(m, ptr, len)?, path(m, to_ptr, to_len)?)?)
}

pub(super) fn unlink_file(
    c: &mut WasiCtx,
    m: &mut GuestMemory<'_>,
    fd: i32,
    ptr: i32,
    len: i32,
) -> WasiResult<()> {
    let d = dir_to_change(c, fd)?;
    Ok(d.dir.remove_file_or_symlink(path(m, ptr, len)?)?)
}
