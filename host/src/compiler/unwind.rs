//! Unwind information: how to find the caller's frame from any point of
//! the generated code. The emitter records, for each range of code it
//! writes (a function, a trampoline, a stub), how its frame changes as the
//! prologue and epilogues run; the artifact writer turns that into DWARF
//! call frame information (`.eh_frame`), which debuggers, profilers and
//! the host's unwinder use to walk through plugin frames.
//!
//! Offsets are relative to the start of the range. The frame state at the
//! start of every range is the one a `call` leaves: the canonical frame
//! address (CFA, the caller's `rsp` before its call) is `rsp + 8`, and the
//! return address is at `CFA - 8`.

/// A change in how to find the caller's frame, effective from its offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnwindOp {
    /// `push rbp` is done: CFA = `rsp + 16`, the caller's `rbp` at
    /// `CFA - 16`.
    PushFramePointer,
    /// `mov rbp, rsp` is done: CFA = `rbp + 16` from here on.
    SetFramePointer,
    /// The register with this hardware number is saved at `CFA - offset`.
    SaveRegister {
        /// The register's hardware number (`rax` 0 ... `r15` 15).
        reg: u8,
        /// Bytes below the CFA.
        offset: u32,
    },
    /// In a range without a frame pointer: CFA = `rsp + offset`.
    StackPointerOffset(u32),
    /// An epilogue's `pop rbp` is done: CFA = `rsp + 8`, until the
    /// [`UnwindOp::Resume`] after its `ret`.
    Leave,
    /// After an epilogue's `ret`: the code that follows (another block, an
    /// out-of-line stub) runs in the frame as it was before the epilogue.
    Resume,
}

/// One range of generated code and its frame changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnwindRange {
    /// Offset of the range in the text section.
    pub start: u32,
    /// Length in bytes.
    pub len: u32,
    /// The changes, by offset from `start`, in order.
    pub ops: Vec<(u32, UnwindOp)>,
}
