//! Output buffers whose allocation failure is an error, not an abort.
//!
//! The `tensor` crate refuses shapes that can never be allocated; a size it accepts
//! may still be more than this machine can give (a `[2^40]` zeros tensor is 4 TiB).
//! `vec![0.0; len]` would abort the process then; these return an error naming the op.

use crate::cpu_error;
use std::alloc::{Layout, alloc_zeroed};
use std::mem::MaybeUninit;
use tensor::Result;

fn refused(op: &str, len: usize) -> tensor::Error {
    cpu_error(
        op,
        format!("cannot allocate {len} f32 elements (out of memory)"),
    )
}

/// `len` zeros. Allocated zeroed, as `vec![0.0; len]` is, so a large buffer comes
/// as lazily zeroed pages instead of being written twice.
pub(crate) fn zeros(op: &str, len: usize) -> Result<Vec<f32>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let layout = Layout::array::<f32>(len).map_err(|_| refused(op, len))?;
    // SAFETY: `layout` has a non-zero size (len > 0, f32 is 4 bytes).
    let ptr = unsafe { alloc_zeroed(layout) }.cast::<f32>();
    if ptr.is_null() {
        return Err(refused(op, len));
    }
    // SAFETY: `ptr` comes from the global allocator with the layout of `[f32; len]`,
    // which is what a `Vec<f32>` of capacity `len` owns and frees; all-zero bits are
    // 0.0f32, so all `len` elements are initialised.
    Ok(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// `len` copies of `value`.
pub(crate) fn filled(op: &str, len: usize, value: f32) -> Result<Vec<f32>> {
    filled_with(op, len, value)
}

/// `len` copies of any `value` (accumulators of reductions).
pub(crate) fn filled_with<T: Copy>(op: &str, len: usize, value: T) -> Result<Vec<T>> {
    let mut out = with_capacity(op, len)?;
    out.resize(len, value);
    Ok(out)
}

/// An empty vector with room for `len` elements.
pub(crate) fn with_capacity<T>(op: &str, len: usize) -> Result<Vec<T>> {
    let mut out = Vec::new();
    out.try_reserve_exact(len).map_err(|_| refused(op, len))?;
    Ok(out)
}

/// `len` elements that `fill` writes into fresh memory, with no zero pass first (a
/// whole pass over the output that the op's own pass would overwrite: 8% of a
/// cifar10_cnn training step went to zeroing outputs).
///
/// # Safety
/// `fill` must write every element of the slice it is given (`MaybeUninit::write`);
/// the vector's length is set to `len` after it returns.
pub(crate) unsafe fn written(
    op: &str,
    len: usize,
    fill: impl FnOnce(&mut [MaybeUninit<f32>]),
) -> Result<Vec<f32>> {
    let mut out = with_capacity::<f32>(op, len)?;
    fill(&mut out.spare_capacity_mut()[..len]);
    // SAFETY: the capacity is at least `len` and `fill` initialised the first `len`
    // elements (the caller's contract).
    unsafe { out.set_len(len) };
    Ok(out)
}

/// `block` as the initialised values it now holds.
///
/// # Safety
/// Every element of `block` must have been written.
pub(crate) unsafe fn assume_written(block: &mut [MaybeUninit<f32>]) -> &mut [f32] {
    // SAFETY: `MaybeUninit<f32>` has the layout of `f32`, and every element is
    // initialised (the caller's contract).
    unsafe { &mut *(block as *mut [MaybeUninit<f32>] as *mut [f32]) }
}

/// Runs `f` on a scratch vector this thread keeps in `slot` between calls (handed out
/// with whatever length and contents it was left with), so a large scratch buffer's
/// pages are not faulted in afresh on every call. A nested call on the same slot gets
/// an empty vector of its own.
pub(crate) fn with_kept<R>(
    slot: &'static std::thread::LocalKey<std::cell::Cell<Vec<f32>>>,
    f: impl FnOnce(&mut Vec<f32>) -> R,
) -> R {
    let mut buf = slot.with(std::cell::Cell::take);
    let r = f(&mut buf);
    slot.with(|s| s.set(buf));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_buffers_hold_what_was_asked() {
        assert_eq!(zeros("t", 3).unwrap(), vec![0.0; 3]);
        assert!(zeros("t", 0).unwrap().is_empty());
        assert_eq!(filled("t", 2, 1.5).unwrap(), vec![1.5, 1.5]);
        assert!(with_capacity::<f32>("t", 5).unwrap().capacity() >= 5);
    }

    #[test]
    fn an_impossible_buffer_is_an_error_naming_the_op() {
        // 2^60 f32 are 4 EiB: past any address space, so refused on every machine.
        let err = zeros("fill", 1 << 60).unwrap_err().to_string();
        assert!(
            err.contains("fill") && err.contains("cannot allocate"),
            "{err}"
        );
        assert!(filled("fill", 1 << 60, 2.0).is_err());
        assert!(with_capacity::<f32>("concat", usize::MAX / 2).is_err());
    }
}
