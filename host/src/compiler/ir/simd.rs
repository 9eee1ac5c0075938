//! The IR's vector operators: one per wasm SIMD operator that computes
//! on values (loads and stores of vectors are `Load`/`Store` and scalar
//! memory operators around these; see `translate/simd.rs`).
//!
//! The list is wasmparser's own (`for_each_visit_simd_operator!`), so it
//! cannot drift from what the decoder accepts: each wasm operator maps to
//! one `SimdOp`, which `x64/emit/simd.rs` expands into SSE4.1 code.

use super::Type;
use wasmparser::Operator;

macro_rules! define_simd_op {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        /// A wasm SIMD operator with its immediates (lane indices, shuffle
        /// pattern; the memory operators' immediates are never used here).
        #[allow(missing_docs)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum SimdOp {
            $( $op $({ $($arg: $argty),* })?, )*
        }

        impl SimdOp {
            /// The SIMD operator `op` is, if it is one.
            pub fn from_operator(op: &Operator<'_>) -> Option<SimdOp> {
                match *op {
                    $( Operator::$op $({ $($arg),* })? => Some(SimdOp::$op $({ $($arg),* })?), )*
                    _ => None,
                }
            }

            /// How many operands it pops and results it pushes.
            pub fn arity(&self) -> (usize, usize) {
                match self {
                    $( SimdOp::$op { .. } => define_simd_op!(@arity $($ann)*), )*
                }
            }

            /// Whether it comes from the relaxed-SIMD proposal.
            pub fn is_relaxed(&self) -> bool {
                match self {
                    $( SimdOp::$op { .. } => stringify!($proposal) == "relaxed_simd", )*
                }
            }
        }
    };
    (@arity arity $($x:ident)* $n:literal -> $m:literal) => { ($n, $m) };
}
wasmparser::for_each_visit_simd_operator!(define_simd_op);

impl std::hash::Hash for SimdOp {
    // Immediates are left out of the hash (equal operators still hash
    // equally; `Eq` tells apart different lanes).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state)
    }
}

impl SimdOp {
    /// Number of value operands.
    pub fn num_args(&self) -> usize {
        self.arity().0
    }

    /// The type of its result.
    pub fn result_type(&self) -> Type {
        use SimdOp::*;
        match self {
            I8x16ExtractLaneS { .. }
            | I8x16ExtractLaneU { .. }
            | I16x8ExtractLaneS { .. }
            | I16x8ExtractLaneU { .. }
            | I32x4ExtractLane { .. }
            | V128AnyTrue
            | I8x16AllTrue
            | I16x8AllTrue
            | I32x4AllTrue
            | I64x2AllTrue
            | I8x16Bitmask
            | I16x8Bitmask
            | I32x4Bitmask
            | I64x2Bitmask => Type::I32,
            I64x2ExtractLane { .. } => Type::I64,
            F32x4ExtractLane { .. } => Type::F32,
            F64x2ExtractLane { .. } => Type::F64,
            _ => Type::V128,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_map_with_their_immediates_and_arity() {
        let op = SimdOp::from_operator(&Operator::I8x16ExtractLaneS { lane: 3 }).unwrap();
        assert_eq!(op, SimdOp::I8x16ExtractLaneS { lane: 3 });
        assert_eq!(op.arity(), (1, 1));
        assert_eq!(op.result_type(), Type::I32);
        let op = SimdOp::from_operator(&Operator::F32x4RelaxedMadd).unwrap();
        assert!(op.is_relaxed());
        assert_eq!(op.num_args(), 3);
        assert_eq!(SimdOp::I8x16Shuffle { lanes: [0; 16] }.num_args(), 2);
        assert!(SimdOp::from_operator(&Operator::I32Add).is_none());
    }
}
