//! Runtime functions that generated code calls through the vmctx's builtin
//! table (`VMContextHeader::builtins`), with the System V C ABI.
//!
//! Every builtin takes the caller's vmctx first. Builtins that can trap
//! return a status: 0 = continue, 1 = trap, with the code stored in
//! `VMStoreContext::trap_code`; the generated code then takes its trap path.
//! The runtime's table (`runtime::builtins`) lists implementations in the
//! order of [`Builtin::ALL`].

/// Kind of a builtin argument or result, all passed in general registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// 32-bit integer.
    I32,
    /// 64-bit integer or pointer-sized value.
    I64,
}

/// What a builtin returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    /// Nothing.
    None,
    /// A value (in rax), e.g. the old size from a grow.
    Value(Arg),
    /// A status: nonzero means "trap with the stored code".
    Status,
}

macro_rules! builtins {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal ( $($arg:ident),* ) -> $ret:expr; )*) => {
        /// A runtime function callable from generated code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum Builtin { $( $(#[$doc])* $variant, )* }

        impl Builtin {
            /// All builtins, in table order.
            pub const ALL: &'static [Builtin] = &[$(Builtin::$variant),*];

            /// The builtin's name, for diagnostics.
            pub fn name(self) -> &'static str {
                match self { $(Builtin::$variant => $name,)* }
            }

            /// Arguments after the leading vmctx.
            pub fn params(self) -> &'static [Arg] {
                match self { $(Builtin::$variant => &[$(Arg::$arg),*],)* }
            }

            /// What the builtin returns.
            pub fn ret(self) -> Ret {
                match self { $(Builtin::$variant => $ret,)* }
            }

            /// Byte offset of this builtin's pointer in the table.
            pub fn table_offset(self) -> u32 {
                self as u32 * 8
            }
        }
    };
}

builtins! {
    /// `memory.grow`: (memory, delta pages) -> old size in pages or u32::MAX.
    MemoryGrow = "memory_grow"(I32, I32) -> Ret::Value(Arg::I32);
    /// `memory.fill`: (memory, dst, value, len).
    MemoryFill = "memory_fill"(I32, I32, I32, I32) -> Ret::Status;
    /// `memory.copy`: (dst memory, src memory, dst, src, len).
    MemoryCopy = "memory_copy"(I32, I32, I32, I32, I32) -> Ret::Status;
    /// `memory.init`: (memory, data segment, dst, src, len).
    MemoryInit = "memory_init"(I32, I32, I32, I32, I32) -> Ret::Status;
    /// `data.drop`: (data segment).
    DataDrop = "data_drop"(I32) -> Ret::None;
    /// `table.grow`: (table, init value, delta) -> old size or u32::MAX.
    TableGrow = "table_grow"(I32, I64, I32) -> Ret::Value(Arg::I32);
    /// `table.fill`: (table, dst, value, len).
    TableFill = "table_fill"(I32, I32, I64, I32) -> Ret::Status;
    /// `table.copy`: (dst table, src table, dst, src, len).
    TableCopy = "table_copy"(I32, I32, I32, I32, I32) -> Ret::Status;
    /// `table.init`: (table, element segment, dst, src, len).
    TableInit = "table_init"(I32, I32, I32, I32, I32) -> Ret::Status;
    /// `elem.drop`: (element segment).
    ElemDrop = "elem_drop"(I32) -> Ret::None;
    /// Calls host function import: (import index, values pointer).
    HostCall = "host_call"(I32, I64) -> Ret::Status;
    /// A check point found the interrupt flag set or the fuel exhausted:
    /// traps, or refills fuel through the store's handler and continues.
    YieldPoint = "yield_point"() -> Ret::Status;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_order_is_pinned() {
        let names: Vec<_> = Builtin::ALL.iter().map(|b| b.name()).collect();
        assert_eq!(
            names,
            [
                "memory_grow",
                "memory_fill",
                "memory_copy",
                "memory_init",
                "data_drop",
                "table_grow",
                "table_fill",
                "table_copy",
                "table_init",
                "elem_drop",
                "host_call",
                "yield_point"
            ]
        );
        for (i, b) in Builtin::ALL.iter().enumerate() {
            assert_eq!(*b as usize, i);
            assert!(b.params().len() <= 5, "builtins take at most 6 register arguments");
        }
    }
}
