//! The fuel instantiation costs, equal to Wasmtime 48's.
//!
//! Wasmtime compiles a per-module startup function that evaluates the
//! initializers it could not precompute, applies the segments it could not
//! turn into static images, and calls the start function; it is metered
//! like any function. Scion applies segments in the runtime instead, so
//! [`StartupPlan`] says what that function would charge, and [`Meter`]
//! charges it at the same points of instantiation:
//!
//! - the function exists only when something needs it at run time: a
//!   global whose initializer is not a single numeric constant, a passive
//!   element segment, a table initializer other than one `ref.func`, an
//!   active element segment from the first one that cannot be precomputed
//!   onwards, data segments that cannot all become a copy-on-write image,
//!   or a start function;
//! - it costs 1 on entry (then checks), every operator of an evaluated
//!   constant expression costs as in a function body, a segment applied at
//!   run time costs its length as a bulk operation (`SMALL_BULK_COST`
//!   decides whether it checks; a data segment always checks), calling the
//!   start function costs 1 and saves the counter;
//! - what is still pending when the function returns, or when it reaches a
//!   memory's image (whose initialisation block is skipped), is never
//!   charged: Wasmtime only adds pending fuel at check points and calls.
//!
//! Fuel must not depend on Scion's own choice of images, so the
//! eligibility rules below are Wasmtime's, not `memory_image`'s.

use super::store::StoreOpaque;
use super::trap::Trap;
use crate::contract::fuel::{FuelCosts, SMALL_BULK_COST};
use crate::info::{ConstExpr, ConstOp, DataMode, ElemMode, ModuleInfo};
use crate::types::{ValType, WASM_PAGE_SIZE};
use wasmparser::Operator;

/// Largest table Wasmtime precomputes an initial image for.
const MAX_PRECOMPUTED_TABLE: u64 = 1 << 20;
/// Data images of this size are built however sparse they are
/// (Wasmtime's `memory_guaranteed_dense_image_size`).
const IMAGE_ALWAYS_ALLOWED: u64 = 16 << 20;

/// What the startup function of a module would charge.
#[derive(Debug, Default)]
pub(crate) struct StartupPlan {
    /// Whether the startup function exists (else nothing is charged).
    pub runs: bool,
    /// Whether the active data segments all go into images; if not, every
    /// active data segment is applied at run time.
    pub static_data: bool,
    /// With static data: the page-padded length of each memory's image
    /// that is not all zeros, in memory order.
    pub image_lengths: Vec<u64>,
    /// Whether Wasmtime maps the images (not when the module imports a
    /// memory): then each image's initialisation block is skipped, else it
    /// runs and costs the image's length.
    pub images_mapped: bool,
    /// Index of the first active element segment applied at run time.
    pub runtime_elems_from: usize,
}

/// The cost of a constant expression's operators (the final `end` is free).
pub(crate) fn expr_cost(costs: &FuelCosts, expr: &ConstExpr) -> i64 {
    expr.0
        .iter()
        .map(|op| {
            costs.cost(&match *op {
                ConstOp::I32Const(value) => Operator::I32Const { value },
                ConstOp::I64Const(value) => Operator::I64Const { value },
                ConstOp::F32Const(bits) => {
                    Operator::F32Const { value: wasmparser::Ieee32::from(f32::from_bits(bits)) }
                }
                ConstOp::F64Const(bits) => {
                    Operator::F64Const { value: wasmparser::Ieee64::from(f64::from_bits(bits)) }
                }
                ConstOp::V128Const(bits) => {
                    Operator::V128Const { value: wasmparser::V128::from(bits as i128) }
                }
                ConstOp::RefNull(_) => Operator::RefNull { hty: wasmparser::HeapType::FUNC },
                ConstOp::RefFunc(function_index) => Operator::RefFunc { function_index },
                ConstOp::GlobalGet(global_index) => Operator::GlobalGet { global_index },
                ConstOp::I32Add => Operator::I32Add,
                ConstOp::I32Sub => Operator::I32Sub,
                ConstOp::I32Mul => Operator::I32Mul,
                ConstOp::I64Add => Operator::I64Add,
                ConstOp::I64Sub => Operator::I64Sub,
                ConstOp::I64Mul => Operator::I64Mul,
            })
        })
        .sum()
}

/// A single `i32.const` offset.
fn constant_offset(expr: &ConstExpr) -> Option<u64> {
    match expr.0[..] {
        [ConstOp::I32Const(v)] => Some(v as u32 as u64),
        _ => None,
    }
}

/// A single numeric constant (Wasmtime evaluates these at compile time).
pub(crate) fn is_numeric_constant(expr: &ConstExpr) -> bool {
    matches!(
        expr.0[..],
        [ConstOp::I32Const(_)
            | ConstOp::I64Const(_)
            | ConstOp::F32Const(_)
            | ConstOp::F64Const(_)
            | ConstOp::V128Const(_)]
    )
}

/// Whether a defined table's initializer is precomputed (one `ref.func`
/// into a table Wasmtime builds an image of).
pub(crate) fn table_init_precomputed(info: &ModuleInfo, defined: usize) -> bool {
    let def = &info.table_defs[defined];
    match &def.init {
        None => true,
        Some(e) => {
            matches!(e.0[..], [ConstOp::RefFunc(_)]) && def.ty.limits.min <= MAX_PRECOMPUTED_TABLE
        }
    }
}

impl StartupPlan {
    /// The plan for `info`.
    pub fn of(info: &ModuleInfo) -> StartupPlan {
        let imported_tables = info.imported_tables as usize;
        // Active element segments are precomputed in order until the first
        // one that cannot be.
        let mut runtime_elems_from = info.elems.len();
        for (i, seg) in info.elems.iter().enumerate() {
            let ElemMode::Active { table, offset } = &seg.mode else { continue };
            let table = *table as usize;
            let fits = constant_offset(offset)
                .and_then(|o| o.checked_add(seg.items.len() as u64))
                .is_some_and(|top| {
                    top <= info.tables[table].limits.min && top <= MAX_PRECOMPUTED_TABLE
                });
            let precomputed = table >= imported_tables
                && fits
                && info.tables[table].element == ValType::FuncRef
                && !seg.expressions
                && info.table_defs[table - imported_tables].init.is_none();
            if !precomputed {
                runtime_elems_from = i;
                break;
            }
        }
        let runtime_elems = info.elems[runtime_elems_from..]
            .iter()
            .any(|s| matches!(s.mode, ElemMode::Active { .. }));
        let images = static_images(info);
        let static_data = images.is_some();
        let images = images.unwrap_or_default();
        let image_lengths: Vec<u64> = images.iter().flatten().copied().collect();
        let images_mapped = info.imported_memories == 0;
        let runtime_data =
            !static_data && info.datas.iter().any(|d| matches!(d.mode, DataMode::Active { .. }));
        // Static data needs the startup function only where a memory has
        // no image to map.
        let memory_needs_init =
            !image_lengths.is_empty() && (!images_mapped || images.iter().any(Option::is_none));
        let runs = info.global_defs.iter().any(|g| !is_numeric_constant(&g.init))
            || info.start.is_some()
            || info.elems.iter().any(|s| matches!(s.mode, ElemMode::Passive))
            || (0..info.table_defs.len()).any(|d| !table_init_precomputed(info, d))
            || runtime_elems
            || runtime_data
            || memory_needs_init;
        StartupPlan { runs, static_data, image_lengths, images_mapped, runtime_elems_from }
    }
}

/// Wasmtime's host page size, the granularity of its images.
const IMAGE_PAGE: u64 = 4096;

/// When every active data segment can go into a static image: for each
/// defined memory, the page-padded length of its image, or `None` when
/// the image would be all zeros.
fn static_images(info: &ModuleInfo) -> Option<Vec<Option<u64>>> {
    let mut segments: Vec<Vec<(u64, &[u8])>> = vec![Vec::new(); info.memories.len()];
    for seg in &info.datas {
        let DataMode::Active { memory, offset } = &seg.mode else { continue };
        let m = *memory as usize;
        if m < info.imported_memories as usize {
            return None;
        }
        let start = constant_offset(offset)?;
        let end = start + seg.bytes.len() as u64;
        if end > info.memories[m].limits.min.saturating_mul(WASM_PAGE_SIZE) {
            return None;
        }
        if !seg.bytes.is_empty() {
            segments[m].push((start, &seg.bytes));
        }
    }
    // Too sparse an image is not built.
    for segs in &segments {
        let Some(min) = segs.iter().map(|s| s.0).min() else { continue };
        let max = segs.iter().map(|s| s.0 + s.1.len() as u64).max().unwrap_or(min);
        let size: u64 = segs.iter().map(|s| s.1.len() as u64).sum();
        let image = max - min;
        if image >= size.saturating_mul(2) && image >= IMAGE_ALWAYS_ALLOWED {
            return None;
        }
    }
    Some(segments.iter().map(|segs| image_length(segs)).collect())
}

/// The page-padded length of the image of these segments (later ones
/// overwrite earlier ones), without leading and trailing zeros.
fn image_length(segs: &[(u64, &[u8])]) -> Option<u64> {
    let min = segs.iter().map(|s| s.0).min()?;
    let max = segs.iter().map(|s| s.0 + s.1.len() as u64).max()?;
    // The image is bounded by twice the data or 16 MiB (checked above).
    let mut image = vec![0u8; (max - min) as usize];
    for &(at, bytes) in segs {
        let at = (at - min) as usize;
        image[at..at + bytes.len()].copy_from_slice(bytes);
    }
    // Zeros are trimmed only around a nonzero byte: an image of zeros
    // keeps its whole extent.
    let (first, end) = match image.iter().position(|&b| b != 0) {
        Some(first) => (first, image.iter().rposition(|&b| b != 0).unwrap_or(first) + 1),
        None => (0, image.len()),
    };
    let start = (min + first as u64) / IMAGE_PAGE * IMAGE_PAGE;
    let end = (min + end as u64).div_ceil(IMAGE_PAGE) * IMAGE_PAGE;
    Some(end - start)
}

/// Charges a store's fuel through one instantiation.
///
/// Like the startup function's counter, the count lives here and reaches
/// the store only when the start function is called, when instantiation
/// ends, and when a check runs out (so a trap before the start function
/// leaves the store's fuel as it was).
pub(crate) struct Meter {
    /// The counter ("consumed minus granted"), when metering.
    consumed: Option<i64>,
    pending: i64,
}

impl Meter {
    /// Starts metering an instantiation of `plan` in `store`: the entry
    /// costs 1 and checks.
    pub fn start(store: &mut StoreOpaque, plan: &StartupPlan) -> Result<Meter, Trap> {
        let mut meter = Meter { consumed: None, pending: 0 };
        if store.fuel_enabled && plan.runs {
            meter.consumed = Some(store.vm().fuel_consumed);
            meter.pending = 1;
            meter.check(store)?;
        }
        Ok(meter)
    }

    /// Adds `cost` without a check.
    pub fn add(&mut self, cost: i64) {
        self.pending += cost;
    }

    /// Charges a bulk operation of constant cost `cost`.
    pub fn bulk(&mut self, store: &mut StoreOpaque, cost: i64) -> Result<(), Trap> {
        self.pending += cost;
        if cost > SMALL_BULK_COST { self.check(store) } else { Ok(()) }
    }

    /// Adds what is pending to the counter and traps `OutOfFuel` when
    /// none is left (unless the store's handler adds more).
    pub fn check(&mut self, store: &mut StoreOpaque) -> Result<(), Trap> {
        let Some(consumed) = self.consumed.as_mut() else { return Ok(()) };
        *consumed = consumed.saturating_add(std::mem::take(&mut self.pending));
        if *consumed < 0 {
            return Ok(());
        }
        store.vm().fuel_consumed = *consumed;
        let resumed = store.refuel();
        *consumed = store.vm().fuel_consumed;
        resumed.map_err(Trap::new)
    }

    /// Forgets what is pending (Wasmtime's pending cost before a skipped
    /// image block is never added).
    pub fn drop_pending(&mut self) {
        self.pending = 0;
    }

    /// Calls the start function: costs 1, and the counter is saved.
    pub fn before_start(&mut self, store: &mut StoreOpaque) {
        if let Some(consumed) = self.consumed.as_mut() {
            *consumed = consumed.saturating_add(1 + std::mem::take(&mut self.pending));
            store.vm().fuel_consumed = *consumed;
            self.consumed = None;
        }
    }

    /// Instantiation ended: the counter (not what is pending) is saved.
    pub fn finish(self, store: &mut StoreOpaque) {
        if let Some(consumed) = self.consumed {
            store.vm().fuel_consumed = consumed;
        }
    }
}
