//! A program's memory as WASI calls see it: every pointer and length it
//! passes is checked here, in 64-bit arithmetic, before any byte is
//! touched; one out of bounds is `EFAULT`.

use super::errno::{Errno, WasiResult};

/// The calling instance's linear memory.
pub(super) struct GuestMemory<'a>(pub &'a mut [u8]);

/// An `iovec` or `ciovec`: a buffer the program lends a read or write.
#[derive(Clone, Copy, Debug)]
pub(super) struct IoVec {
    pub ptr: u32,
    pub len: u32,
}

impl GuestMemory<'_> {
    /// The byte range `ptr..ptr + len`, checked.
    fn range(&self, ptr: u32, len: u64) -> WasiResult<std::ops::Range<usize>> {
        let end = (ptr as u64).checked_add(len).ok_or(Errno::FAULT)?;
        if end > self.0.len() as u64 {
            return Err(Errno::FAULT);
        }
        Ok(ptr as usize..end as usize)
    }

    /// `len` bytes at `ptr`.
    pub fn bytes(&self, ptr: u32, len: u32) -> WasiResult<&[u8]> {
        let r = self.range(ptr, len as u64)?;
        Ok(&self.0[r])
    }

    /// `len` bytes at `ptr`, to write.
    pub fn bytes_mut(&mut self, ptr: u32, len: u32) -> WasiResult<&mut [u8]> {
        let r = self.range(ptr, len as u64)?;
        Ok(&mut self.0[r])
    }

    /// Copies `data` to `ptr`.
    pub fn write_bytes(&mut self, ptr: u32, data: &[u8]) -> WasiResult<()> {
        let len = u32::try_from(data.len()).map_err(|_| Errno::FAULT)?;
        self.bytes_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }

    /// A UTF-8 string of `len` bytes at `ptr` (`EILSEQ` if it is not).
    pub fn str(&self, ptr: u32, len: u32) -> WasiResult<&str> {
        std::str::from_utf8(self.bytes(ptr, len)?).map_err(|_| Errno::ILSEQ)
    }

    fn array<const N: usize>(&self, ptr: u32) -> WasiResult<[u8; N]> {
        let r = self.range(ptr, N as u64)?;
        let mut out = [0; N];
        out.copy_from_slice(&self.0[r]);
        Ok(out)
    }

    pub fn u8(&self, ptr: u32) -> WasiResult<u8> {
        Ok(self.array::<1>(ptr)?[0])
    }

    pub fn u16(&self, ptr: u32) -> WasiResult<u16> {
        Ok(u16::from_le_bytes(self.array(ptr)?))
    }

    pub fn u32(&self, ptr: u32) -> WasiResult<u32> {
        Ok(u32::from_le_bytes(self.array(ptr)?))
    }

    pub fn u64(&self, ptr: u32) -> WasiResult<u64> {
        Ok(u64::from_le_bytes(self.array(ptr)?))
    }

    pub fn set_u32(&mut self, ptr: u32, v: u32) -> WasiResult<()> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }

    pub fn set_u64(&mut self, ptr: u32, v: u64) -> WasiResult<()> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }

    /// The `count` iovecs at `ptr` (8 bytes each), every buffer checked
    /// against the memory.
    pub fn iovecs(&self, ptr: u32, count: u32) -> WasiResult<Vec<IoVec>> {
        let bytes = (count as u64).checked_mul(8).ok_or(Errno::FAULT)?;
        self.range(ptr, bytes)?;
        let mut out = Vec::with_capacity(count as usize);
        for i in 0..count {
            let at = ptr + i * 8; // in bounds: checked above
            let v = IoVec { ptr: self.u32(at)?, len: self.u32(at + 4)? };
            self.range(v.ptr, v.len as u64)?;
            out.push(v);
        }
        Ok(out)
    }
}

/// The total length of `iovs`, in 64 bits (it can pass 4 GiB when the
/// buffers overlap).
pub(super) fn total_len(iovs: &[IoVec]) -> u64 {
    iovs.iter().map(|v| v.len as u64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_at_the_end_of_memory_are_checked_in_64_bits() {
        let mut data = vec![0u8; 16];
        let mut m = GuestMemory(&mut data);
        assert!(m.set_u32(12, 7).is_ok());
        assert_eq!(m.set_u32(13, 7), Err(Errno::FAULT));
        assert_eq!(m.u64(u32::MAX), Err(Errno::FAULT));
        assert_eq!(m.bytes(u32::MAX, u32::MAX).err(), Some(Errno::FAULT));
        assert_eq!(m.bytes(16, 0).map(<[u8]>::len), Ok(0));
        assert_eq!(m.bytes(17, 0).err(), Some(Errno::FAULT));
    }

    #[test]
    fn iovecs_and_their_buffers_must_lie_in_memory() {
        let mut data = vec![0u8; 32];
        let mut m = GuestMemory(&mut data);
        m.set_u32(0, 16).unwrap();
        m.set_u32(4, 16).unwrap();
        assert_eq!(m.iovecs(0, 1).unwrap()[0].len, 16);
        m.set_u32(4, 17).unwrap();
        assert_eq!(m.iovecs(0, 1).err(), Some(Errno::FAULT));
        assert_eq!(m.iovecs(0, u32::MAX).err(), Some(Errno::FAULT));
    }
}
