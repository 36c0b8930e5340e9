//! Which cells co-sign a checkpoint: the committee of a cell's checkpoint of an epoch.
//!
//! A checkpoint of cell `X` at epoch `e` needs, besides `X`'s own quorum, the quorums of
//! `k − 1` cells of its committee: `c` cells other than `X` drawn without replacement, so that
//! the work of co-signing grows with `c`, not with the number of cells. The draw is a partial
//! Fisher–Yates shuffle of the other cells (in cell order) driven by the blake3 extendable
//! output of `COMMITTEE_DOMAIN ‖ seed ‖ X ‖ e`; `docs/checkpoints.md` gives it byte by byte
//! for verifiers in other languages, and what a committee of `c` with threshold `k − 1`
//! tolerates. The seed is the federation's id: fixed at genesis, so no cell can bias its own
//! committees after it.

use charter_ledger::CellId;

/// Prefix of the bytes whose extendable output draws a committee.
pub const COMMITTEE_DOMAIN: &[u8] = b"charter/committee/v1";

/// Committees that may each co-sign a checkpoint handing over a new set: those of its epoch
/// and of the next three. A cell's later checkpoints all wait on its hand-over, so a hand-over
/// whose one committee withheld its signatures would stop the cell's finality for good; with
/// four, it stops only if all four do, while a forger gets four draws instead of one
/// (`docs/checkpoints.md`, Committees).
pub const HAND_OVER_COMMITTEES: u64 = 4;

/// The committee of `origin`'s checkpoint of `epoch`, in draw order: `size` of the cells of
/// `cells` other than `origin` (every other cell when there are no more than `size`).
/// `cells` is the federation's cells in increasing order.
pub fn committee(
    seed: &[u8; 32],
    cells: &[CellId],
    origin: CellId,
    epoch: u64,
    size: usize,
) -> Vec<CellId> {
    debug_assert!(cells.windows(2).all(|pair| pair[0] < pair[1]));
    let mut others: Vec<CellId> = cells
        .iter()
        .copied()
        .filter(|cell| *cell != origin)
        .collect();
    if others.len() <= size {
        return others;
    }
    let mut draws = Draws::new(seed, origin, epoch);
    for position in 0..size {
        let remaining = (others.len() - position) as u64;
        let chosen = position + draws.below(remaining) as usize;
        others.swap(position, chosen);
    }
    others.truncate(size);
    others
}

/// Prefix of the bytes that designate a cell's aggregators for a checkpoint.
pub const AGGREGATORS_DOMAIN: &[u8] = b"charter/aggregators/v1";

/// Validators of a cell that publish its aggregate on a checkpoint: more than one, so that one
/// down or withholding does not hold the checkpoint back.
pub const AGGREGATORS: usize = 3;

/// The positions in `cell`'s set of `set_size` members that aggregate the cell's signatures on
/// `origin`'s checkpoint of `epoch`: [`AGGREGATORS`] of them (every member of a smaller set),
/// in turn from `blake3(AGGREGATORS_DOMAIN ‖ seed ‖ cell ‖ origin ‖ epoch)`'s first 8 bytes
/// (little-endian) modulo the set's size. Spreading the role over the set's members by
/// checkpoint shares the work; which ones hold it does not affect what becomes final.
pub fn aggregators(
    seed: &[u8; 32],
    cell: CellId,
    origin: CellId,
    epoch: u64,
    set_size: usize,
) -> Vec<usize> {
    if set_size == 0 {
        return Vec::new();
    }
    let mut hasher = blake3::Hasher::new();
    hasher.update(AGGREGATORS_DOMAIN);
    hasher.update(seed);
    hasher.update(&cell.0.to_le_bytes());
    hasher.update(&origin.0.to_le_bytes());
    hasher.update(&epoch.to_le_bytes());
    let digest = hasher.finalize();
    let first: [u8; 8] = digest.as_bytes()[..8].try_into().expect("8 of 32 bytes");
    let start = (u64::from_le_bytes(first) % set_size as u64) as usize;
    (0..AGGREGATORS.min(set_size))
        .map(|turn| (start + turn) % set_size)
        .collect()
}

/// Uniform draws from the extendable output of one committee's seed bytes.
struct Draws(blake3::OutputReader);

impl Draws {
    fn new(seed: &[u8; 32], origin: CellId, epoch: u64) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(COMMITTEE_DOMAIN);
        hasher.update(seed);
        hasher.update(&origin.0.to_le_bytes());
        hasher.update(&epoch.to_le_bytes());
        Self(hasher.finalize_xof())
    }

    /// A uniform draw from `0..bound`: the next 8 output bytes as a little-endian `x`, taken
    /// as `x mod bound` when `x < bound · ⌊(2⁶⁴ − 1) / bound⌋` and drawn again otherwise, so
    /// that every value is equally likely.
    fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "a draw needs at least one value");
        let accepted = (u64::MAX / bound) * bound;
        loop {
            let mut bytes = [0u8; 8];
            self.0.fill(&mut bytes);
            let x = u64::from_le_bytes(bytes);
            if x < accepted {
                return x % bound;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn cells(count: u32) -> Vec<CellId> {
        (0..count).map(CellId).collect()
    }

    #[test]
    fn a_committee_is_distinct_other_cells_of_its_size() {
        let all = cells(100);
        for epoch in 0..50 {
            let drawn = committee(&[7; 32], &all, CellId(3), epoch, 32);
            let distinct: BTreeSet<CellId> = drawn.iter().copied().collect();
            assert_eq!(drawn.len(), 32);
            assert_eq!(distinct.len(), 32, "epoch {epoch}: {drawn:?}");
            assert!(!distinct.contains(&CellId(3)));
            assert!(distinct.iter().all(|cell| all.contains(cell)));
        }
    }

    #[test]
    fn a_committee_as_large_as_the_other_cells_is_every_other_cell() {
        let all = cells(5);
        let drawn = committee(&[1; 32], &all, CellId(2), 9, 4);
        assert_eq!(drawn, vec![CellId(0), CellId(1), CellId(3), CellId(4)]);
        assert_eq!(committee(&[1; 32], &all, CellId(2), 9, 40), drawn);
    }

    #[test]
    fn the_draw_depends_on_seed_origin_and_epoch_alone() {
        let all = cells(40);
        let drawn = committee(&[5; 32], &all, CellId(1), 4, 8);
        assert_eq!(committee(&[5; 32], &all, CellId(1), 4, 8), drawn);
        assert_ne!(committee(&[6; 32], &all, CellId(1), 4, 8), drawn);
        assert_ne!(committee(&[5; 32], &all, CellId(2), 4, 8), drawn);
        assert_ne!(committee(&[5; 32], &all, CellId(1), 5, 8), drawn);
    }

    #[test]
    fn a_checkpoint_has_three_aggregators_in_each_cell_or_every_member_of_a_smaller_one() {
        let designated = |epoch, size| aggregators(&[2; 32], CellId(1), CellId(0), epoch, size);
        for epoch in 0..20 {
            for (size, count) in [(100, 3), (4, 3), (2, 2), (1, 1), (0, 0)] {
                let positions = designated(epoch, size);
                assert_eq!(positions.len(), count);
                assert!(positions.iter().all(|position| *position < size));
                let distinct: std::collections::BTreeSet<_> = positions.iter().collect();
                assert_eq!(distinct.len(), count);
            }
        }
        assert_ne!(
            designated(1, 100),
            designated(2, 100),
            "the role moves from one checkpoint to the next"
        );
    }

    /// Over many epochs every other cell sits on about `c / (N − 1)` of the committees: the
    /// draw favours none (each count within 5 standard deviations of its mean).
    #[test]
    fn every_other_cell_is_drawn_equally_often() {
        let all = cells(21);
        let epochs = 4_000u64;
        let mut seats = vec![0u64; all.len()];
        for epoch in 0..epochs {
            for cell in committee(&[9; 32], &all, CellId(0), epoch, 5) {
                seats[cell.0 as usize] += 1;
            }
        }
        assert_eq!(seats[0], 0);
        let p = 5.0 / 20.0;
        let mean = epochs as f64 * p;
        let deviation = (epochs as f64 * p * (1.0 - p)).sqrt();
        for (cell, count) in seats.iter().enumerate().skip(1) {
            let off = (*count as f64 - mean).abs();
            assert!(
                off < 5.0 * deviation,
                "cell {cell}: {count} seats, mean {mean}"
            );
        }
    }
}
