//! SIMD operators. Vector loads and stores of 16 bytes are `Load`/`Store`
//! of type v128; the other memory forms are a scalar access and a lane
//! operator, so that bounds checks, traps and fuel stay those of scalar
//! code:
//!
//! - `load8x8_s` and kin, `load32_zero`, `load64_zero`: a narrow v128
//!   `Load` (8 or 4 bytes into lane 0, the rest zero), then the extension;
//! - `loadN_splat`: a scalar load and a splat;
//! - `loadN_lane`: a scalar load and a `replace_lane`;
//! - `storeN_lane`: an `extract_lane` and a scalar store.
//!
//! Every other operator is one `Simd` instruction.

use super::FuncTranslator;
use super::memory::memory_index;
use crate::compiler::ir::{InstKind, MemOp, SimdOp, Type, Value};
use wasmparser::{MemArg, Operator};

impl FuncTranslator<'_> {
    /// Appends `op` over `args` and returns its result.
    fn simd(&mut self, op: SimdOp, args: &[Value]) -> Value {
        debug_assert_eq!(args.len(), op.num_args());
        let mut slots = [Value(0); 3];
        slots[..args.len()].copy_from_slice(args);
        self.ins1(InstKind::Simd { op, args: slots }, op.result_type())
    }

    /// A narrow v128 load: `bytes` into lane 0, the rest zero.
    fn load_low(&mut self, m: &MemArg, bytes: u8) -> Value {
        self.load(m, bytes, false, Type::V128);
        self.pop()
    }

    fn load_extend(&mut self, m: &MemArg, extend: SimdOp) {
        let low = self.load_low(m, 8);
        let v = self.simd(extend, &[low]);
        self.push(v);
    }

    fn load_splat(&mut self, m: &MemArg, bytes: u8, splat: SimdOp) {
        let ty = if bytes == 8 { Type::I64 } else { Type::I32 };
        self.load(m, bytes, false, ty);
        let x = self.pop();
        let v = self.simd(splat, &[x]);
        self.push(v);
    }

    fn load_lane(&mut self, m: &MemArg, bytes: u8, replace: SimdOp) {
        let vector = self.pop();
        let ty = if bytes == 8 { Type::I64 } else { Type::I32 };
        self.load(m, bytes, false, ty);
        let x = self.pop();
        let v = self.simd(replace, &[vector, x]);
        self.push(v);
    }

    fn store_lane(&mut self, m: &MemArg, bytes: u8, extract: SimdOp) {
        let (addr, vector) = self.pop2();
        let x = self.simd(extract, &[vector]);
        let ty = self.func.value_type(x);
        let op = MemOp { bytes, signed: false, ty };
        let mem = memory_index(m);
        self.ins(InstKind::Store { op, mem, addr, value: x, offset: m.offset }, &[]);
    }

    pub(super) fn translate_simd(&mut self, op: &Operator<'_>) -> bool {
        use Operator as O;
        use SimdOp as S;
        match *op {
            O::V128Load { ref memarg } => self.load(memarg, 16, false, Type::V128),
            O::V128Store { ref memarg } => self.store(memarg, 16, Type::V128),
            O::V128Load8x8S { ref memarg } => self.load_extend(memarg, S::I16x8ExtendLowI8x16S),
            O::V128Load8x8U { ref memarg } => self.load_extend(memarg, S::I16x8ExtendLowI8x16U),
            O::V128Load16x4S { ref memarg } => self.load_extend(memarg, S::I32x4ExtendLowI16x8S),
            O::V128Load16x4U { ref memarg } => self.load_extend(memarg, S::I32x4ExtendLowI16x8U),
            O::V128Load32x2S { ref memarg } => self.load_extend(memarg, S::I64x2ExtendLowI32x4S),
            O::V128Load32x2U { ref memarg } => self.load_extend(memarg, S::I64x2ExtendLowI32x4U),
            O::V128Load32Zero { ref memarg } => self.load(memarg, 4, false, Type::V128),
            O::V128Load64Zero { ref memarg } => self.load(memarg, 8, false, Type::V128),
            O::V128Load8Splat { ref memarg } => self.load_splat(memarg, 1, S::I8x16Splat),
            O::V128Load16Splat { ref memarg } => self.load_splat(memarg, 2, S::I16x8Splat),
            O::V128Load32Splat { ref memarg } => self.load_splat(memarg, 4, S::I32x4Splat),
            O::V128Load64Splat { ref memarg } => self.load_splat(memarg, 8, S::I64x2Splat),
            O::V128Load8Lane { ref memarg, lane } => {
                self.load_lane(memarg, 1, S::I8x16ReplaceLane { lane })
            }
            O::V128Load16Lane { ref memarg, lane } => {
                self.load_lane(memarg, 2, S::I16x8ReplaceLane { lane })
            }
            O::V128Load32Lane { ref memarg, lane } => {
                self.load_lane(memarg, 4, S::I32x4ReplaceLane { lane })
            }
            O::V128Load64Lane { ref memarg, lane } => {
                self.load_lane(memarg, 8, S::I64x2ReplaceLane { lane })
            }
            O::V128Store8Lane { ref memarg, lane } => {
                self.store_lane(memarg, 1, S::I8x16ExtractLaneU { lane })
            }
            O::V128Store16Lane { ref memarg, lane } => {
                self.store_lane(memarg, 2, S::I16x8ExtractLaneU { lane })
            }
            O::V128Store32Lane { ref memarg, lane } => {
                self.store_lane(memarg, 4, S::I32x4ExtractLane { lane })
            }
            O::V128Store64Lane { ref memarg, lane } => {
                self.store_lane(memarg, 8, S::I64x2ExtractLane { lane })
            }
            O::V128Const { value } => {
                let bits = u128::from_le_bytes(*value.bytes());
                self.push1(InstKind::Vconst { bits }, Type::V128)
            }
            _ => {
                let Some(simd) = SimdOp::from_operator(op) else { return false };
                let args = self.popn(simd.num_args());
                let v = self.simd(simd, &args);
                self.push(v);
            }
        }
        true
    }
}
