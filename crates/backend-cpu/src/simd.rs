//! Loops compiled for the widest x86 vector unit the CPU has, chosen at run time.
//!
//! The release build targets baseline x86-64 (SSE2), so the binary runs on any x86-64
//! CPU; a hot loop that is written to vectorise (zipped slices, compare-and-select, no
//! early exits) is handed to [`dispatch`], which runs it inside a function compiled
//! with AVX-512 or AVX2 enabled when the CPU has them. The loop's body is inlined there
//! and vectorised at that width. Only loops whose result cannot depend on the width go
//! through here (comparisons, selects, elementwise arithmetic without reassociation:
//! Rust never contracts `a * b + c` into a fused multiply-add on its own), so every
//! level gives the same bits; [`at`] runs a loop at a chosen lower level, which the
//! tests use to check that.
//!
//! The closure handed over must be `#[inline(always)]` (and call `#[inline(always)]`
//! functions): LLVM only compiles it at the wider level if it is inlined into the
//! wrapper, and without the attribute it often is not (the loop then silently runs at
//! the baseline width).

/// The instruction-set levels [`dispatch`] chooses between, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// The baseline build (SSE2 on x86-64; whatever the target has elsewhere).
    Portable,
    /// AVX2 (256-bit vectors).
    Avx2,
    /// AVX-512 foundation (512-bit vectors).
    Avx512,
}

/// The highest level this CPU runs (cached by the standard library after the first
/// call).
#[inline]
pub(crate) fn detected() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Level::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            return Level::Avx2;
        }
    }
    Level::Portable
}

/// Runs `f` compiled for the CPU's highest level.
#[inline(always)]
pub(crate) fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    at(detected(), f)
}

/// Runs `f` compiled for `level`, or for the CPU's highest level if that is lower.
#[inline(always)]
pub(crate) fn at<R>(level: Level, f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    match level.min(detected()) {
        // SAFETY: the CPU has the level's features (`detected` checked them).
        Level::Avx512 => return unsafe { avx512(f) },
        // SAFETY: as above.
        Level::Avx2 => return unsafe { avx2(f) },
        Level::Portable => {}
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = level;
    f()
}

/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_up_to_the_detected_one_runs_and_higher_ones_fall_back() {
        for level in [Level::Portable, Level::Avx2, Level::Avx512] {
            let sum: f32 = at(
                level,
                #[inline(always)]
                || (1..=100).map(|v| v as f32).sum(),
            );
            assert_eq!(sum, 5050.0);
        }
        assert!(detected() >= Level::Portable);
    }
}
