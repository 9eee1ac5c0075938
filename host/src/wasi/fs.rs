//! What a WASI descriptor is (a standard stream, a file, a directory),
//! and the file-system facts WASI reports about them.
//!
//! Directories are `cap_std::fs::Dir`s: every path is resolved by
//! `cap-std` beneath the directory it is relative to, which refuses `..`
//! past it, absolute paths and symbolic links that lead out, and does so
//! with `openat`-style calls that leave no race between check and use.

use super::config::{DirPerms, Input, Output};
use super::errno::{Errno, WasiResult};
use cap_std::fs::{FileType, Metadata, MetadataExt};
use std::io::{Read, Write};

/// A descriptor.
pub(super) enum Desc {
    Stream(Stream),
    File(FileDesc),
    Dir(DirDesc),
}

/// Standard input, output or error, as configured.
pub(super) enum Stream {
    Stdin { input: Input, pos: usize },
    Stdout(Output),
    Stderr(Output),
}

/// An open file.
pub(super) struct FileDesc {
    pub file: cap_std::fs::File,
    pub read: bool,
    pub write: bool,
    pub append: bool,
    /// The flags the program last set (reported back by `fd_fdstat_get`).
    pub fdflags: u16,
    /// The rights the program has left itself (`fd_fdstat_set_rights`
    /// only ever removes some).
    pub rights: u64,
    pub inheriting: u64,
}

/// An open directory.
pub(super) struct DirDesc {
    pub dir: cap_std::fs::Dir,
    /// The guest path, for a preopened directory.
    pub preopen: Option<String>,
    pub perms: DirPerms,
    /// Its rights, and those of descriptors opened beneath it; the
    /// program can only remove some.
    pub rights: u64,
    pub inheriting: u64,
}

impl DirDesc {
    /// A directory with the rights asked for, as far as directories have
    /// them.
    pub fn new(
        dir: cap_std::fs::Dir,
        preopen: Option<String>,
        perms: DirPerms,
        base: u64,
        inheriting: u64,
    ) -> DirDesc {
        DirDesc {
            dir,
            preopen,
            perms,
            rights: base & rights::DIR,
            inheriting: inheriting & (rights::DIR | rights::FILE),
        }
    }
}

/// WASI rights bits (preview 1).
pub(super) mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    /// Every right a regular file can have.
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
    /// Every right a directory can have (the path rights, bits 9 to 26
    /// except `FD_READDIR`'s neighbours that are file-only).
    pub const DIR: u64 = FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_ADVISE
        | FD_READDIR
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | (1 << 9)
        | (1 << 10)
        | (1 << 11)
        | (1 << 12)
        | (1 << 13)
        | (1 << 15)
        | (1 << 16)
        | (1 << 17)
        | (1 << 18)
        | (1 << 19)
        | (1 << 20)
        | (1 << 24)
        | (1 << 25)
        | (1 << 26);
    /// What a standard stream can do.
    pub const STREAM: u64 =
        FD_READ | FD_WRITE | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE;
}

/// WASI file types.
pub(super) mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// WASI fd flags.
pub(super) mod fdflags {
    pub const APPEND: u16 = 1 << 0;
    pub const DSYNC: u16 = 1 << 1;
    pub const NONBLOCK: u16 = 1 << 2;
    pub const RSYNC: u16 = 1 << 3;
    pub const SYNC: u16 = 1 << 4;
}

/// The WASI file type of a host file type.
pub(super) fn wasi_filetype(t: FileType) -> u8 {
    use cap_std::fs::FileTypeExt;
    if t.is_dir() {
        filetype::DIRECTORY
    } else if t.is_file() {
        filetype::REGULAR_FILE
    } else if t.is_symlink() {
        filetype::SYMBOLIC_LINK
    } else if t.is_block_device() {
        filetype::BLOCK_DEVICE
    } else if t.is_char_device() {
        filetype::CHARACTER_DEVICE
    } else if t.is_socket() {
        filetype::SOCKET_STREAM
    } else {
        filetype::UNKNOWN
    }
}

/// A `filestat`, as WASI lays it out (64 bytes).
pub(super) struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

fn nanos(secs: i64, nsec: i64) -> u64 {
    (secs.max(0) as u64).saturating_mul(1_000_000_000).saturating_add(nsec.max(0) as u64)
}

impl Filestat {
    pub fn of(m: &Metadata) -> Filestat {
        Filestat {
            dev: m.dev(),
            ino: m.ino(),
            filetype: wasi_filetype(m.file_type()),
            nlink: m.nlink(),
            size: m.size(),
            atim: nanos(m.atime(), m.atime_nsec()),
            mtim: nanos(m.mtime(), m.mtime_nsec()),
            ctim: nanos(m.ctime(), m.ctime_nsec()),
        }
    }

    /// A standard stream's (a character device with no times).
    pub fn stream() -> Filestat {
        Filestat {
            dev: 0,
            ino: 0,
            filetype: filetype::CHARACTER_DEVICE,
            nlink: 0,
            size: 0,
            atim: 0,
            mtim: 0,
            ctim: 0,
        }
    }

    pub fn bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16] = self.filetype;
        b[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        b[32..40].copy_from_slice(&self.size.to_le_bytes());
        b[40..48].copy_from_slice(&self.atim.to_le_bytes());
        b[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        b[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        b
    }
}

impl Stream {
    /// Reads into `buf`; 0 at end of input.
    pub fn read(&mut self, buf: &mut [u8]) -> WasiResult<usize> {
        match self {
            Stream::Stdin { input: Input::Null, .. } => Ok(0),
            Stream::Stdin { input: Input::Inherit, .. } => Ok(std::io::stdin().read(buf)?),
            Stream::Stdin { input: Input::Bytes(bytes), pos } => {
                let rest = bytes.get(*pos..).unwrap_or_default();
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                *pos += n;
                Ok(n)
            }
            Stream::Stdout(_) | Stream::Stderr(_) => Err(Errno::BADF),
        }
    }

    /// Writes all of `data`.
    pub fn write(&mut self, data: &[u8]) -> WasiResult<()> {
        let out = match self {
            Stream::Stdout(o) | Stream::Stderr(o) => o,
            Stream::Stdin { .. } => return Err(Errno::BADF),
        };
        match out {
            Output::Null => {}
            Output::Capture(buf) => buf.append(data),
            Output::Inherit => {
                let stdout = matches!(self, Stream::Stdout(_));
                if stdout {
                    let mut s = std::io::stdout().lock();
                    s.write_all(data)?;
                    s.flush()?;
                } else {
                    std::io::stderr().lock().write_all(data)?;
                }
            }
        }
        Ok(())
    }
}

impl Desc {
    /// `fd_fdstat_get`'s 24 bytes.
    pub fn fdstat(&self) -> [u8; 24] {
        let (filetype, flags, base, inheriting) = match self {
            Desc::Stream(s) => {
                // Standard streams are character devices, terminals or not.
                let t = filetype::CHARACTER_DEVICE;
                let r = match s {
                    Stream::Stdin { .. } => rights::STREAM & !rights::FD_WRITE,
                    _ => rights::STREAM & !rights::FD_READ,
                };
                (t, 0u16, r, 0u64)
            }
            Desc::File(f) => (filetype::REGULAR_FILE, f.fdflags, f.rights, f.inheriting),
            Desc::Dir(d) => (filetype::DIRECTORY, 0, d.rights, d.inheriting),
        };
        let mut b = [0u8; 24];
        b[0] = filetype;
        b[2..4].copy_from_slice(&flags.to_le_bytes());
        b[8..16].copy_from_slice(&base.to_le_bytes());
        b[16..24].copy_from_slice(&inheriting.to_le_bytes());
        b
    }

    pub fn file(&self) -> WasiResult<&FileDesc> {
        match self {
            Desc::File(f) => Ok(f),
            Desc::Dir(_) => Err(Errno::ISDIR),
            Desc::Stream(_) => Err(Errno::SPIPE),
        }
    }

    pub fn dir(&self) -> WasiResult<&DirDesc> {
        match self {
            Desc::Dir(d) => Ok(d),
            _ => Err(Errno::NOTDIR),
        }
    }
}

impl FileDesc {
    /// Fails with `ENOTCAPABLE` unless the program kept right `r`.
    pub fn need(&self, r: u64) -> WasiResult<()> {
        if self.rights & r == r { Ok(()) } else { Err(Errno::NOTCAPABLE) }
    }
}
