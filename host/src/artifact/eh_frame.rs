//! `.eh_frame` and `.eh_frame_hdr`: the compiler's unwind records
//! ([`UnwindRange`]) as DWARF call frame information, so that gdb, perf
//! (`--call-graph dwarf`), libunwind and the host's own unwinder walk
//! through plugin frames into the host.
//!
//! Both sections are position independent (every address in them is
//! relative to the field that holds it, or to the header), so the file
//! needs no relocation wherever it is mapped. `.eh_frame` ends with the
//! zero terminator libgcc's `__register_frame` expects; `.eh_frame_hdr` is
//! the sorted search table `PT_GNU_EH_FRAME` points at.

use crate::compiler::unwind::{UnwindOp, UnwindRange};
use gimli::write::{
    Address, CallFrameInstruction, CommonInformationEntry, EhFrame, EndianVec,
    FrameDescriptionEntry, FrameTable,
};
use gimli::{Encoding, Format, LittleEndian, Register, X86_64};

/// How every pointer to code, and `.eh_frame_hdr`'s pointer to
/// `.eh_frame`, is encoded: relative to its own field, 4 bytes.
pub const PCREL_SDATA4: gimli::DwEhPe = gimli::DwEhPe(0x10 | 0x0b);

/// `.eh_frame_hdr`'s format version.
pub const HDR_VERSION: u8 = 1;

/// Where the writer placed the sections (addresses relative to the load
/// base, which equal file offsets).
#[derive(Clone, Copy, Debug)]
pub struct UnwindAddrs {
    /// `.text`.
    pub text: u64,
    /// `.eh_frame`.
    pub eh_frame: u64,
    /// `.eh_frame_hdr`.
    pub eh_frame_hdr: u64,
}

/// The DWARF number of a register, from its hardware number.
fn dwarf_register(hw: u8) -> Register {
    // DWARF numbers rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, then r8-r15;
    // the hardware encoding is rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi.
    const FIRST_EIGHT: [Register; 8] = [
        X86_64::RAX,
        X86_64::RCX,
        X86_64::RDX,
        X86_64::RBX,
        X86_64::RSP,
        X86_64::RBP,
        X86_64::RSI,
        X86_64::RDI,
    ];
    match hw {
        0..=7 => FIRST_EIGHT[hw as usize],
        _ => Register(u16::from(hw)),
    }
}

fn instructions(op: UnwindOp) -> Vec<CallFrameInstruction> {
    use CallFrameInstruction as I;
    match op {
        UnwindOp::PushFramePointer => vec![I::CfaOffset(16), I::Offset(X86_64::RBP, -16)],
        UnwindOp::SetFramePointer => vec![I::CfaRegister(X86_64::RBP)],
        UnwindOp::SaveRegister { reg, offset } => {
            vec![I::Offset(dwarf_register(reg), -(offset as i32))]
        }
        UnwindOp::StackPointerOffset(offset) => vec![I::CfaOffset(offset as i32)],
        UnwindOp::Leave => vec![I::RememberState, I::Cfa(X86_64::RSP, 8)],
        UnwindOp::Resume => vec![I::RestoreState],
    }
}

/// `.eh_frame` for `ranges` at `addrs`, with its terminator.
pub fn eh_frame(ranges: &[UnwindRange], addrs: UnwindAddrs) -> Vec<u8> {
    let encoding = Encoding { format: Format::Dwarf32, version: 1, address_size: 8 };
    let mut cie = CommonInformationEntry::new(encoding, 1, -8, X86_64::RA);
    cie.fde_address_encoding = PCREL_SDATA4;
    // What a call leaves: the return address at the top of the stack.
    cie.add_instruction(CallFrameInstruction::Cfa(X86_64::RSP, 8));
    cie.add_instruction(CallFrameInstruction::Offset(X86_64::RA, -8));
    let mut table = FrameTable::default();
    let cie_id = table.add_cie(cie);
    for range in ranges.iter().filter(|r| r.len > 0) {
        // A pc-relative address is written as the value minus the field's
        // offset in the section: give it relative to the section.
        let at = (addrs.text + u64::from(range.start)).wrapping_sub(addrs.eh_frame);
        let mut fde = FrameDescriptionEntry::new(Address::Constant(at), range.len);
        for &(offset, op) in &range.ops {
            for i in instructions(op) {
                fde.add_instruction(offset, i);
            }
        }
        table.add_fde(cie_id, fde);
    }
    let mut out = EhFrame(EndianVec::new(LittleEndian));
    table.write_eh_frame(&mut out).expect("in-memory CFI writing cannot fail");
    let mut bytes = out.0.into_vec();
    bytes.extend_from_slice(&[0; 4]);
    bytes
}

/// The length of [`eh_frame`]'s output, which does not depend on where the
/// sections go.
pub fn eh_frame_len(ranges: &[UnwindRange]) -> usize {
    eh_frame(ranges, UnwindAddrs { text: 0, eh_frame: 0, eh_frame_hdr: 0 }).len()
}

/// The length of [`eh_frame_hdr`]'s output.
pub fn eh_frame_hdr_len(ranges: &[UnwindRange]) -> usize {
    12 + 8 * ranges.iter().filter(|r| r.len > 0).count()
}

/// `.eh_frame_hdr` for the `.eh_frame` bytes `eh_frame` at `addrs`: the
/// version, the encodings, a pointer to `.eh_frame` and the table of
/// (function start, FDE address) sorted by start, all relative to the
/// header.
pub fn eh_frame_hdr(eh_frame: &[u8], addrs: UnwindAddrs) -> Vec<u8> {
    use gimli::{BaseAddresses, CieOrFde, UnwindSection};
    let section = gimli::read::EhFrame::new(eh_frame, LittleEndian);
    let bases = BaseAddresses::default().set_eh_frame(addrs.eh_frame).set_text(addrs.text);
    let mut table = Vec::new();
    let mut entries = section.entries(&bases);
    while let Some(entry) = entries.next().expect("our own .eh_frame parses") {
        if let CieOrFde::Fde(partial) = entry {
            let fde =
                partial.parse(gimli::read::EhFrame::cie_from_offset).expect("our own FDEs parse");
            table.push((fde.initial_address(), addrs.eh_frame + fde.offset() as u64));
        }
    }
    table.sort_unstable();
    let rel = |addr: u64| (addr.wrapping_sub(addrs.eh_frame_hdr) as i64 as i32).to_le_bytes();
    let mut hdr = vec![
        HDR_VERSION,
        PCREL_SDATA4.0,
        gimli::DW_EH_PE_udata4.0,
        (gimli::DW_EH_PE_datarel | gimli::DW_EH_PE_sdata4).0,
    ];
    // The pointer to .eh_frame is relative to its own field, at offset 4.
    hdr.extend_from_slice(&rel(addrs.eh_frame.wrapping_sub(4)));
    hdr.extend_from_slice(&(table.len() as u32).to_le_bytes());
    for (start, fde) in table {
        hdr.extend_from_slice(&rel(start));
        hdr.extend_from_slice(&rel(fde));
    }
    hdr
}

#[cfg(test)]
mod tests {
    use super::*;
    use gimli::{BaseAddresses, CfaRule, RegisterRule, UnwindContext, UnwindSection};

    fn frame_function(start: u32) -> UnwindRange {
        UnwindRange {
            start,
            len: 32,
            ops: vec![
                (1, UnwindOp::PushFramePointer),
                (4, UnwindOp::SetFramePointer),
                (5, UnwindOp::SaveRegister { reg: 3, offset: 24 }),
                (20, UnwindOp::Leave),
                (21, UnwindOp::Resume),
            ],
        }
    }

    #[test]
    fn the_encoding_is_pc_relative_sdata4() {
        assert_eq!(PCREL_SDATA4, gimli::DW_EH_PE_pcrel | gimli::DW_EH_PE_sdata4);
    }

    #[test]
    fn rows_follow_the_prologue_and_epilogue() {
        let ranges = [frame_function(0x40), frame_function(0x80)];
        let addrs = UnwindAddrs { text: 0x3000, eh_frame: 0x1200, eh_frame_hdr: 0x1100 };
        let bytes = eh_frame(&ranges, addrs);
        assert_eq!(bytes.len(), eh_frame_len(&ranges));
        let section = gimli::read::EhFrame::new(&bytes, LittleEndian);
        let bases = BaseAddresses::default().set_eh_frame(addrs.eh_frame).set_text(addrs.text);
        let mut ctx = UnwindContext::new();
        let row = |pc: u64, ctx: &mut UnwindContext<usize>| {
            let r = section
                .unwind_info_for_address(&bases, ctx, pc, gimli::read::EhFrame::cie_from_offset)
                .unwrap();
            (r.cfa().clone(), r.register(X86_64::RBP), r.register(X86_64::RBX))
        };
        let f = 0x3000 + 0x80;
        assert_eq!(
            row(f, &mut ctx).0,
            CfaRule::RegisterAndOffset { register: X86_64::RSP, offset: 8 }
        );
        assert_eq!(
            row(f + 1, &mut ctx).0,
            CfaRule::RegisterAndOffset { register: X86_64::RSP, offset: 16 }
        );
        let body = row(f + 10, &mut ctx);
        assert_eq!(body.0, CfaRule::RegisterAndOffset { register: X86_64::RBP, offset: 16 });
        assert_eq!(body.1, Some(RegisterRule::Offset(-16)));
        assert_eq!(body.2, Some(RegisterRule::Offset(-24)));
        // Between `pop rbp` and `ret`, then back in the frame after it.
        assert_eq!(
            row(f + 20, &mut ctx).0,
            CfaRule::RegisterAndOffset { register: X86_64::RSP, offset: 8 }
        );
        assert_eq!(
            row(f + 25, &mut ctx).0,
            CfaRule::RegisterAndOffset { register: X86_64::RBP, offset: 16 }
        );
        // Outside every range there is nothing.
        assert!(
            section
                .unwind_info_for_address(
                    &bases,
                    &mut ctx,
                    0x3000,
                    gimli::read::EhFrame::cie_from_offset
                )
                .is_err()
        );
    }

    #[test]
    fn the_header_table_finds_every_function() {
        let ranges = [frame_function(0x40), frame_function(0x80), frame_function(0x100)];
        let addrs = UnwindAddrs { text: 0x3000, eh_frame: 0x1200, eh_frame_hdr: 0x1100 };
        let frame = eh_frame(&ranges, addrs);
        let hdr = eh_frame_hdr(&frame, addrs);
        assert_eq!(hdr.len(), eh_frame_hdr_len(&ranges));
        let parsed = gimli::read::EhFrameHdr::new(&hdr, LittleEndian)
            .parse(&BaseAddresses::default().set_eh_frame_hdr(addrs.eh_frame_hdr), 8)
            .unwrap();
        assert_eq!(parsed.eh_frame_ptr(), gimli::read::Pointer::Direct(addrs.eh_frame));
        let table = parsed.table().unwrap();
        let section = gimli::read::EhFrame::new(&frame, LittleEndian);
        let bases = BaseAddresses::default()
            .set_eh_frame(addrs.eh_frame)
            .set_eh_frame_hdr(addrs.eh_frame_hdr)
            .set_text(addrs.text);
        for r in &ranges {
            let pc = addrs.text + u64::from(r.start) + 3;
            let fde = table
                .fde_for_address(&section, &bases, pc, gimli::read::EhFrame::cie_from_offset)
                .unwrap();
            assert_eq!(fde.initial_address(), addrs.text + u64::from(r.start));
        }
    }
}
