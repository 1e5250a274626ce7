//! Work cut into a fixed number of tasks, one thread each, so that no result depends
//! on which thread runs first or finishes first.

use rayon::prelude::*;

/// Cuts `out` into consecutive pieces of `lens[t]` elements (shorter where `out` runs
/// out) and runs `f(t, piece)` for each: in place when there is one task, else each on
/// its own thread.
pub(crate) fn for_each_piece<T: Send, F>(out: &mut [T], lens: &[usize], f: F)
where
    F: Fn(usize, &mut [T]) + Sync,
{
    if lens.len() <= 1 {
        return f(0, out);
    }
    let mut pieces = Vec::with_capacity(lens.len());
    let mut rest = out;
    for (t, &len) in lens.iter().enumerate() {
        let take = len.min(rest.len());
        let (piece, tail) = std::mem::take(&mut rest).split_at_mut(take);
        pieces.push((t, piece));
        rest = tail;
    }
    pieces.into_par_iter().for_each(|(t, piece)| f(t, piece));
}

/// Runs `f(t)` for `tasks` tasks on their own threads and adds the `len`-element
/// results together in task order.
pub(crate) fn sum_in_task_order<F>(tasks: usize, len: usize, f: F) -> Vec<f32>
where
    F: Fn(usize) -> Vec<f32> + Sync,
{
    let partials: Vec<Vec<f32>> = (0..tasks).into_par_iter().map(&f).collect();
    let mut sum = vec![0.0; len];
    for partial in &partials {
        for (s, p) in sum.iter_mut().zip(partial) {
            *s += p;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_cut_in_order_and_short_at_the_end() {
        let mut out = vec![0.0; 7];
        for_each_piece(&mut out, &[3, 3, 3], |t, piece| piece.fill(t as f32 + 1.0));
        assert_eq!(out, [1., 1., 1., 2., 2., 2., 3.]);
        let mut one = vec![0.0; 2];
        for_each_piece(&mut one, &[5], |t, piece| piece.fill(t as f32 + 9.0));
        assert_eq!(one, [9., 9.]);
    }

    #[test]
    fn partials_are_added_in_task_order() {
        // 1e8 + 1 - 1e8 in f32 is 0 left to right, 1 in another order.
        let sum = sum_in_task_order(3, 1, |t| vec![[1e8f32, 1.0, -1e8][t]]);
        assert_eq!(sum, [0.0]);
    }
}
