//! Kernel launchers, one file per op family of `tensor::backend`, each with
//! `impl <Family>Ops for Wgpu` and its `shaders/<family>.wgsl`.

/// Declares a kernel's uniform parameter block: a `#[repr(C)]`, `Pod` struct that
/// mirrors the WGSL struct of the same name. In tests it also describes its fields
/// (name, offset, size), which `params::check_against_wgsl` compares with the layout
/// naga computes for the WGSL declaration, so the two cannot drift apart.
macro_rules! params {
    (struct $name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        #[repr(C)]
        #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
        struct $name {
            $($field: $ty),*
        }

        #[cfg(test)]
        impl crate::ops::params::Described for $name {
            const NAME: &'static str = stringify!($name);
            fn fields() -> Vec<(&'static str, usize, usize)> {
                vec![$((
                    stringify!($field),
                    std::mem::offset_of!($name, $field),
                    std::mem::size_of::<$ty>(),
                )),*]
            }
        }
    };
}

pub(crate) mod conv;
pub(crate) mod elementwise;
pub(crate) mod gather;
pub(crate) mod layout;
pub(crate) mod lstm;
pub(crate) mod matmul;
pub(crate) mod optim;
#[cfg(test)]
pub(crate) mod params;
pub(crate) mod pool;
pub(crate) mod random;
pub(crate) mod reduce;
pub(crate) mod resize;
pub(crate) mod softmax;
pub(crate) mod storage;

/// Most dimensions an index-decoding kernel takes (after [`collapse`]).
pub(crate) const MAX_RANK: usize = 8;

/// Drops size-1 dimensions and merges neighbours that are contiguous in every
/// operand (`stride[i] == stride[i + 1] * dims[i + 1]` for each stride set), so
/// that index-decoding kernels do less work and rarely exceed [`MAX_RANK`].
pub(crate) fn collapse(dims: &[usize], strides: &[&[usize]]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut out_dims: Vec<usize> = Vec::new();
    let mut out_strides: Vec<Vec<usize>> = vec![Vec::new(); strides.len()];
    for i in 0..dims.len() {
        if dims[i] == 1 {
            continue;
        }
        let mergeable = !out_dims.is_empty()
            && strides.iter().zip(&out_strides).all(|(s, o)| {
                let last = *o.last().expect("same length as out_dims");
                last == s[i] * dims[i]
            });
        if mergeable {
            *out_dims.last_mut().expect("non-empty") *= dims[i];
            for (s, o) in strides.iter().zip(out_strides.iter_mut()) {
                *o.last_mut().expect("non-empty") = s[i];
            }
        } else {
            out_dims.push(dims[i]);
            for (s, o) in strides.iter().zip(out_strides.iter_mut()) {
                o.push(s[i]);
            }
        }
    }
    (out_dims, out_strides)
}

/// One launch of an index-decoding kernel over the last [`MAX_RANK`] dims of a
/// view with more: the element offset into each operand, and into the output.
pub(crate) struct Block {
    pub offsets: Vec<usize>,
    pub out_offset: usize,
}

/// Splits `dims` (already collapsed) into leading dims, which the host iterates
/// over, and at most [`MAX_RANK`] inner dims, which one launch decodes. Returns
/// the inner dims, their strides per operand, and one [`Block`] per launch (a
/// single block at offset 0 when nothing leads).
pub(crate) fn split_leading(
    dims: &[usize],
    strides: &[Vec<usize>],
) -> (Vec<usize>, Vec<Vec<usize>>, Vec<Block>) {
    let lead = dims.len().saturating_sub(MAX_RANK);
    let inner_dims = dims[lead..].to_vec();
    let inner_strides: Vec<Vec<usize>> = strides.iter().map(|s| s[lead..].to_vec()).collect();
    let inner_len: usize = inner_dims.iter().product();
    let count: usize = dims[..lead].iter().product();
    let mut blocks = Vec::with_capacity(count);
    for j in 0..count {
        // Row-major digits of j over the leading dims.
        let mut rem = j;
        let mut offsets = vec![0usize; strides.len()];
        for d in (0..lead).rev() {
            let c = rem % dims[d];
            rem /= dims[d];
            for (o, s) in offsets.iter_mut().zip(strides) {
                *o += c * s[d];
            }
        }
        blocks.push(Block {
            offsets,
            out_offset: j * inner_len,
        });
    }
    (inner_dims, inner_strides, blocks)
}

/// Packs up to [`MAX_RANK`] values into a uniform array (zeros after the end).
pub(crate) fn pack8(values: &[usize]) -> [u32; MAX_RANK] {
    let mut out = [0u32; MAX_RANK];
    for (o, v) in out.iter_mut().zip(values) {
        *o = *v as u32;
    }
    out
}

/// Row-major strides of `dims`.
pub(crate) fn contiguous_strides(dims: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * dims[i + 1];
    }
    strides
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_merges_contiguous_and_drops_ones() {
        // [2, 3, 4] contiguous, b broadcast along dim 0.
        let (d, s) = collapse(&[2, 3, 4], &[&[12, 4, 1], &[0, 4, 1]]);
        assert_eq!(d, vec![2, 12]);
        assert_eq!(s, vec![vec![12, 1], vec![0, 1]]);
        let (d, s) = collapse(&[1, 5, 1], &[&[5, 1, 1]]);
        assert_eq!(d, vec![5]);
        assert_eq!(s, vec![vec![1]]);
        // A transpose cannot merge.
        let (d, s) = collapse(&[3, 2], &[&[1, 3]]);
        assert_eq!(d, vec![3, 2]);
        assert_eq!(s, vec![vec![1, 3]]);
        let (d, _) = collapse(&[1, 1], &[&[1, 1]]);
        assert!(d.is_empty());
    }

    #[test]
    fn leading_dims_beyond_the_rank_limit_become_blocks() {
        let dims = vec![2usize; MAX_RANK + 2];
        let strides = vec![contiguous_strides(&dims)];
        let (inner, inner_strides, blocks) = split_leading(&dims, &strides);
        assert_eq!(inner.len(), MAX_RANK);
        assert_eq!(inner_strides[0], strides[0][2..].to_vec());
        assert_eq!(blocks.len(), 4);
        let inner_len = 1 << MAX_RANK;
        for (j, b) in blocks.iter().enumerate() {
            assert_eq!(b.out_offset, j * inner_len);
            assert_eq!(b.offsets[0], j * inner_len);
        }
        let (_, _, blocks) = split_leading(&[3, 4], &strides[..0]);
        assert_eq!(blocks.len(), 1);
    }
}
