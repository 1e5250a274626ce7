//! Sum / max / min over axes, and argmax (`shaders/reduce.wgsl`).

use super::{MAX_RANK, collapse, contiguous_strides, pack8};
use crate::buffer_pool::WgpuStorage;
use crate::context::Wgpu;
use crate::pipeline::{Access::*, COMMON_WGSL, Kernel, Shader};
use tensor::{ReduceOp, ReduceOps, Result, StorageOps};

static SHADER: Shader = Shader {
    name: "reduce",
    parts: &[COMMON_WGSL, include_str!("../../../../shaders/reduce.wgsl")],
    generated: &[],
};
static REDUCE_THREAD: Kernel = Kernel {
    shader: &SHADER,
    entry: "reduce_thread",
    storage: &[Read, ReadWrite],
};
static REDUCE_GROUP: Kernel = Kernel {
    shader: &SHADER,
    entry: "reduce_group",
    storage: &[Read, ReadWrite],
};
static ARGMAX: Kernel = Kernel {
    shader: &SHADER,
    entry: "argmax",
    storage: &[Read, ReadWrite],
};

params! {
    struct ReduceParams {
        kept_dims: [u32; MAX_RANK],
        kept_strides: [u32; MAX_RANK],
        red_dims: [u32; MAX_RANK],
        red_strides: [u32; MAX_RANK],
        n_out: u32,
        kept_rank: u32,
        red_rank: u32,
        red_len: u32,
        op: u32,
    }
}

params! {
    struct ArgmaxParams {
        len: u32,
        axis_len: u32,
        inner: u32,
    }
}

/// Reductions at least this long get a workgroup per output.
const GROUP_MIN_LEN: usize = 256;

/// Splits `dims` into kept and reduced groups, each `(dims, strides into x)`,
/// merged where contiguous.
type Group = (Vec<usize>, Vec<usize>);
fn split_axes(dims: &[usize], axes: &[usize]) -> (Group, Group) {
    let strides = contiguous_strides(dims);
    let (mut kd, mut ks, mut rd, mut rs) = (vec![], vec![], vec![], vec![]);
    for i in 0..dims.len() {
        if axes.contains(&i) {
            rd.push(dims[i]);
            rs.push(strides[i]);
        } else {
            kd.push(dims[i]);
            ks.push(strides[i]);
        }
    }
    let (kd, ks) = collapse(&kd, &[&ks]);
    let (rd, rs) = collapse(&rd, &[&rs]);
    ((kd, ks[0].clone()), (rd, rs[0].clone()))
}

impl ReduceOps for Wgpu {
    fn reduce(
        &self,
        op: ReduceOp,
        x: &WgpuStorage,
        dims: &[usize],
        axes: &[usize],
    ) -> Result<WgpuStorage> {
        let ((kd, ks), (mut rd, mut rs)) = split_axes(dims, axes);
        let n_out: usize = kd.iter().product();
        let out = self.alloc("reduce", n_out)?;
        if kd.len() > MAX_RANK || rd.len() > MAX_RANK {
            return Err(self.error(format!(
                "reduce: dims {dims:?} over axes {axes:?} need more than {MAX_RANK} \
                 kept or reduced dimensions"
            )));
        }
        if rd.is_empty() {
            rd.push(1);
            rs.push(0);
        }
        let red_len: usize = rd.iter().product();
        let params = ReduceParams {
            kept_dims: pack8(&kd),
            kept_strides: pack8(&ks),
            red_dims: pack8(&rd),
            red_strides: pack8(&rs),
            n_out: n_out as u32,
            kept_rank: kd.len() as u32,
            red_rank: rd.len() as u32,
            red_len: red_len as u32,
            op: match op {
                ReduceOp::Sum => 0,
                ReduceOp::Max => 1,
                ReduceOp::Min => 2,
            },
        };
        if red_len == 0 {
            // The identity of each op, as an empty fold gives.
            let identity = match op {
                ReduceOp::Sum => 0.0,
                ReduceOp::Max => f32::NEG_INFINITY,
                ReduceOp::Min => f32::INFINITY,
            };
            return self.fill(n_out, identity);
        }
        // A workgroup per output pays off when the reduction is long and either the
        // outputs are few or the reduced elements are contiguous (coalesced reads).
        let contiguous = *rs.last().expect("non-empty") == 1;
        if red_len >= GROUP_MIN_LEN && (n_out <= 8192 || contiguous) {
            let grid = self.grid_groups(n_out)?;
            self.launch(&REDUCE_GROUP, &[], &params, &[x, &out], grid)?;
        } else {
            self.launch(&REDUCE_THREAD, &[], &params, &[x, &out], self.grid(n_out)?)?;
        }
        Ok(out)
    }

    fn argmax(&self, x: &WgpuStorage, dims: &[usize], axis: usize) -> Result<WgpuStorage> {
        let outer: usize = dims[..axis].iter().product();
        let inner: usize = dims[axis + 1..].iter().product();
        let len = outer * inner;
        let axis_len = dims[axis];
        if len > 0 && axis_len == 0 {
            return Err(self.error("argmax: the axis is empty"));
        }
        if axis_len > 1 << 24 {
            return Err(self.error(format!(
                "argmax: an axis of {axis_len} has indices that f32 cannot hold exactly"
            )));
        }
        let out = self.alloc("argmax", len)?;
        let params = ArgmaxParams {
            len: len as u32,
            axis_len: axis_len as u32,
            inner: inner as u32,
        };
        self.launch(&ARGMAX, &[], &params, &[x, &out], self.grid(len)?)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::split_axes;

    #[test]
    fn axes_split_into_merged_groups() {
        // [2, 3, 4, 5] reducing axes 1 and 2: kept [2, 5], reduced [12] with stride 5.
        let ((kd, ks), (rd, rs)) = split_axes(&[2, 3, 4, 5], &[1, 2]);
        assert_eq!((kd, ks), (vec![2, 5], vec![60, 1]));
        assert_eq!((rd, rs), (vec![12], vec![5]));
        // Reducing everything.
        let ((kd, _), (rd, rs)) = split_axes(&[3, 4], &[0, 1]);
        assert!(kd.is_empty());
        assert_eq!((rd, rs), (vec![12], vec![1]));
    }
}

#[cfg(test)]
mod params_layout {
    #[test]
    fn params_structs_match_their_wgsl_declarations() {
        crate::ops::params::check_against_wgsl::<super::ReduceParams>(&super::SHADER);
        crate::ops::params::check_against_wgsl::<super::ArgmaxParams>(&super::SHADER);
    }
}
