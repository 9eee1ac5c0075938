//! Initial memory images, laid out in the artifact file at compile time.
//!
//! A module's active data segments are written once, when it is compiled,
//! into a page-aligned image of each defined memory's initial contents,
//! stored after the ELF object (before the signature trailer, so the MAC
//! covers it). Instantiation maps the image privately from the artifact's
//! open file over the start of the new memory (`runtime/memory_image.rs`):
//! one `mmap`, no copy, and a page is copied only when the plugin first
//! writes it. Nothing of an image is read at load.
//!
//! Images exist only when instantiation cannot trap in the middle of data
//! initialisation: every active segment has a constant offset, targets a
//! memory the module defines, and lies within that memory's initial size.
//! Otherwise segments are copied one by one, so a trap leaves exactly the
//! earlier segments written, as the spec requires.
//!
//! ```text
//! | ELF object | zeros to a page | image 0 | image 1 ... | trailer |
//!                                ^ images start: signed length - images_len
//! ```

pub use super::check::PAGE;
use crate::info::{DataMode, ModuleInfo};
use crate::types::WASM_PAGE_SIZE;
use serde::{Deserialize, Serialize};

/// Below this many bytes of data a memory's segments are simply copied:
/// one `mmap` (and the later copy-on-write faults) costs more than
/// copying a few pages.
const MIN_IMAGE_BYTES: usize = 16 * 1024;

/// Where one memory's image lies in the images region and in the memory.
/// Below `at` the memory starts as zeros (Rust programs put their data
/// after a 1 MiB stack, which the file need not hold).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSpan {
    /// Offset from the start of the images region (a multiple of [`PAGE`]).
    pub offset: u64,
    /// Offset in the memory where the image starts (a multiple of [`PAGE`]).
    pub at: u64,
    /// Length (a multiple of [`PAGE`]).
    pub len: u64,
}

/// The images of `info`'s defined memories (by defined index; `None`: its
/// segments are copied) and the region holding them, a multiple of
/// [`PAGE`] long.
pub fn build(info: &ModuleInfo) -> (Vec<Option<ImageSpan>>, Vec<u8>) {
    let imported = info.imported_memories as usize;
    let defined = info.memories.len().saturating_sub(imported);
    let Some(placed) = placements(info) else { return (vec![None; defined], Vec::new()) };
    let mut region = Vec::new();
    let spans = placed
        .iter()
        .map(|segs| {
            let bytes: usize = segs.iter().map(|&(_, i)| info.datas[i].bytes.len()).sum();
            if bytes < MIN_IMAGE_BYTES {
                return None;
            }
            let nonempty = segs.iter().filter(|&&(_, i)| !info.datas[i].bytes.is_empty());
            let start = nonempty.clone().map(|&(at, _)| at).min()? as u64 / PAGE * PAGE;
            let end = nonempty.map(|&(at, i)| at + info.datas[i].bytes.len()).max()?;
            let len = (end as u64).div_ceil(PAGE) * PAGE - start;
            let offset = region.len();
            region.resize(offset + len as usize, 0);
            // In order: later segments overwrite earlier ones.
            for &(at, i) in segs {
                let b = &info.datas[i].bytes;
                let from = offset + at - start as usize;
                region[from..from + b.len()].copy_from_slice(b);
            }
            Some(ImageSpan { offset: offset as u64, at: start, len })
        })
        .collect();
    (spans, region)
}

/// (offset, segment index) of each active segment, per defined memory;
/// `None` when data initialisation could trap or write an imported memory.
fn placements(info: &ModuleInfo) -> Option<Vec<Vec<(usize, usize)>>> {
    let imported = info.imported_memories as usize;
    let defined = info.memories.get(imported..)?;
    let mut placed: Vec<Vec<(usize, usize)>> = vec![Vec::new(); defined.len()];
    for (i, seg) in info.datas.iter().enumerate() {
        let DataMode::Active { memory, offset } = &seg.mode else { continue };
        let d = (*memory as usize).checked_sub(imported)?;
        let at = offset.evaluate(|_| None, |_| None)? as u32 as usize;
        let end = at.checked_add(seg.bytes.len())?;
        if end as u64 > defined.get(d)?.limits.min.checked_mul(WASM_PAGE_SIZE)? {
            return None;
        }
        placed[d].push((at, i));
    }
    Some(placed)
}

/// Checks spans read from an artifact against its images region of
/// `region_len` bytes and the module's memories.
pub fn check(
    info: &ModuleInfo,
    spans: &[Option<ImageSpan>],
    region_len: u64,
) -> Result<(), String> {
    let imported = info.imported_memories as usize;
    if spans.len() != info.memories.len().saturating_sub(imported)
        || !region_len.is_multiple_of(PAGE)
    {
        return Err("memory images do not match the module".into());
    }
    for (d, span) in spans.iter().enumerate() {
        let Some(s) = span else { continue };
        let initial = info.memories[imported + d].limits.min.saturating_mul(WASM_PAGE_SIZE);
        let fits = s.offset % PAGE == 0
            && s.at % PAGE == 0
            && s.len % PAGE == 0
            && s.len > 0
            && s.offset.checked_add(s.len).is_some_and(|end| end <= region_len)
            && s.at.checked_add(s.len).is_some_and(|end| end <= initial);
        if !fits {
            return Err(format!("memory image {d} lies outside its region or its memory"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::{ConstExpr, ConstOp, DataSegment};
    use crate::types::{Limits, MemoryType};

    fn module(pages: u64, segments: &[(i32, usize, u8)]) -> ModuleInfo {
        let mut info = ModuleInfo::default();
        info.memories.push(MemoryType { limits: Limits { min: pages, max: None }, shared: false });
        for &(at, len, byte) in segments {
            info.datas.push(DataSegment {
                mode: DataMode::Active {
                    memory: 0,
                    offset: ConstExpr(smallvec::smallvec![ConstOp::I32Const(at)]),
                },
                bytes: vec![byte; len],
            });
        }
        info
    }

    #[test]
    fn images_hold_the_segments_from_their_first_page_in_order() {
        // Two overlapping segments after 1 MiB of zeros: the later wins.
        let info = module(20, &[(0x10_0010, 20_000, 1), (0x10_0020, 8, 2)]);
        let (spans, region) = build(&info);
        let s = spans[0].unwrap();
        assert_eq!((s.offset, s.at), (0, 0x10_0000));
        assert_eq!(s.len as usize, region.len());
        assert_eq!(s.len % PAGE, 0);
        assert!(region[..0x10].iter().all(|&b| b == 0));
        assert_eq!(region[0x10], 1);
        assert!(region[0x20..0x28].iter().all(|&b| b == 2));
        assert_eq!(region[0x28], 1);
        assert!(region[0x10 + 20_000..].iter().all(|&b| b == 0));
        check(&info, &spans, region.len() as u64).unwrap();
    }

    #[test]
    fn small_data_and_data_that_could_trap_get_no_image() {
        let (spans, region) = build(&module(1, &[(0, 100, 1)]));
        assert_eq!((spans, region.len()), (vec![None], 0));
        // Past the initial size: instantiation traps, so segments are
        // applied one by one.
        let (spans, _) = build(&module(1, &[(60_000, 20_000, 1)]));
        assert_eq!(spans, vec![None]);
    }

    #[test]
    fn crafted_spans_are_refused() {
        let info = module(2, &[(0, 20_000, 1)]);
        let (spans, region) = build(&info);
        let len = region.len() as u64;
        check(&info, &spans, len).unwrap();
        let good = spans[0].unwrap();
        let bad = [
            ImageSpan { offset: 1, ..good },
            ImageSpan { at: 100, ..good },
            ImageSpan { len: good.len + 1, ..good },
            ImageSpan { len: 0, ..good },
            ImageSpan { offset: len, ..good },
            ImageSpan { offset: u64::MAX - PAGE + 1, ..good },
            ImageSpan { at: 2 * 65536, ..good },
            ImageSpan { at: u64::MAX - PAGE + 1, ..good },
        ];
        for span in bad {
            assert!(check(&info, &[Some(span)], len).is_err(), "{span:?}");
        }
        assert!(check(&info, &[], len).is_err(), "a span per defined memory");
        assert!(check(&info, &spans, len + 1).is_err(), "a region of whole pages");
    }
}
