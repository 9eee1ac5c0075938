//! The x86-64 backend: registers, the encoder and the emitter.

pub mod emit;
pub mod encode;
pub mod packed;
pub mod regs;

use serde::{Deserialize, Serialize};

/// Optional instruction-set extensions the generated code may use.
///
/// Part of the cache key and of the artifact: code compiled with a feature
/// is refused on a CPU without it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IsaFlags {
    /// `lzcnt` (ABM/LZCNT).
    pub lzcnt: bool,
    /// `tzcnt` (BMI1).
    pub bmi1: bool,
}

impl IsaFlags {
    /// The extensions of the CPU this process runs on.
    pub fn host() -> IsaFlags {
        IsaFlags {
            lzcnt: std::arch::is_x86_feature_detected!("lzcnt"),
            bmi1: std::arch::is_x86_feature_detected!("bmi1"),
        }
    }

    /// Whether code compiled for `self` can run on a CPU with `host`.
    pub fn runs_on(self, host: IsaFlags) -> bool {
        (!self.lzcnt || host.lzcnt) && (!self.bmi1 || host.bmi1)
    }

    /// Checks the baseline every artifact needs: SSE4.1 (`roundss`,
    /// `pshufb` and the packed integer forms), SSE4.2 (`pcmpgtq`, for
    /// `i64x2` comparisons) and POPCNT.
    pub fn check_baseline() -> Result<(), String> {
        if !std::arch::is_x86_feature_detected!("sse4.1") {
            return Err("Scion needs a CPU with SSE4.1".into());
        }
        if !std::arch::is_x86_feature_detected!("sse4.2") {
            return Err("Scion needs a CPU with SSE4.2".into());
        }
        if !std::arch::is_x86_feature_detected!("popcnt") {
            return Err("Scion needs a CPU with POPCNT".into());
        }
        Ok(())
    }
}
