//! A Twins schedule: which validators a cell has, which of them run twice, and the faults the
//! network and the processes suffer, all drawn from one seed so any schedule can be replayed.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How a process is killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashKind {
    /// Between two inputs: what the write-ahead log had not flushed is lost.
    AtRest,
    /// In the middle of handling an input, after this many of the engine's effects (after a
    /// signature is persisted and before its message leaves, for one).
    MidStep { effects: u32 },
    /// Its write-ahead log lost as well (a damaged or emptied engine directory).
    LosingWal,
    /// Its store and log emptied to resync from the cell, its signer's record kept: what an
    /// operator does for a store refused as inconsistent.
    Resync,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Processes in different groups cannot reach each other.
    Partition(Vec<Vec<usize>>),
    /// Every process reaches every other again.
    Heal,
    /// Kill a process and restart it `down_ms` later.
    Crash {
        process: usize,
        kind: CrashKind,
        down_ms: u64,
    },
}

/// Delays and loss on every link while faults last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Links {
    pub loss_percent: u32,
    pub min_delay_ms: u64,
    pub max_delay_ms: u64,
}

impl Links {
    /// The network once the schedule heals: fast and lossless.
    pub const HEALED: Links = Links {
        loss_percent: 0,
        min_delay_ms: 1,
        max_delay_ms: 20,
    };
}

#[derive(Clone, Debug)]
pub struct Schedule {
    pub seed: u64,
    pub validators: usize,
    /// Validators run by two processes each (process `validators + i` twins `twinned[i]`).
    pub twinned: Vec<usize>,
    pub links: Links,
    /// Faults by the time they strike, in milliseconds, in time order.
    pub faults: Vec<(u64, Fault)>,
    /// When every fault is over: everything restarts, partitions heal, links become
    /// [`Links::HEALED`].
    pub heal_at_ms: u64,
}

impl Schedule {
    /// The schedule of `seed`: 4 to 7 validators, one or two of them twinned (never more than
    /// the cell tolerates), partitions that usually separate a twin from its original, and
    /// crashes of every kind.
    pub fn generate(seed: u64, fault_ms: u64) -> Schedule {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let validators = rng.gen_range(4..=7);
        let tolerated = (validators - 1) / 3;
        let twins = rng.gen_range(1..=tolerated);
        let mut twinned: Vec<usize> = (0..validators).collect();
        twinned.shuffle(&mut rng);
        twinned.truncate(twins);
        let min_delay_ms = rng.gen_range(1..=20);
        let links = Links {
            loss_percent: rng.gen_range(0..=15),
            min_delay_ms,
            max_delay_ms: min_delay_ms + rng.gen_range(0..=400),
        };
        let processes = validators + twins;
        let mut faults = Vec::new();
        let mut at = 0;
        loop {
            at += rng.gen_range(300..=2_500);
            if at >= fault_ms {
                break;
            }
            faults.push((at, random_fault(&mut rng, processes, validators, &twinned)));
        }
        Schedule {
            seed,
            validators,
            twinned,
            links,
            faults,
            heal_at_ms: fault_ms,
        }
    }

    pub fn processes(&self) -> usize {
        self.validators + self.twinned.len()
    }

    /// The validator a process runs as.
    pub fn validator_of(&self, process: usize) -> usize {
        match process.checked_sub(self.validators) {
            Some(twin) => self.twinned[twin],
            None => process,
        }
    }

    /// A process whose validator nobody else runs: it must follow the protocol.
    pub fn is_honest(&self, process: usize) -> bool {
        !self.twinned.contains(&self.validator_of(process))
    }
}

fn random_fault(
    rng: &mut ChaCha8Rng,
    processes: usize,
    validators: usize,
    twinned: &[usize],
) -> Fault {
    match rng.gen_range(0..10) {
        0..=3 => Fault::Partition(random_groups(rng, processes, validators, twinned)),
        4 => Fault::Heal,
        _ => Fault::Crash {
            process: rng.gen_range(0..processes),
            kind: match rng.gen_range(0..10) {
                0..=3 => CrashKind::AtRest,
                4..=6 => CrashKind::MidStep {
                    effects: rng.gen_range(0..16),
                },
                7..=8 => CrashKind::LosingWal,
                _ => CrashKind::Resync,
            },
            down_ms: rng.gen_range(100..=3_000),
        },
    }
}

/// Two or three groups; a twin lands apart from its original three times in four, which is
/// what lets the pair equivocate.
fn random_groups(
    rng: &mut ChaCha8Rng,
    processes: usize,
    validators: usize,
    twinned: &[usize],
) -> Vec<Vec<usize>> {
    let count = rng.gen_range(2..=3);
    let mut group_of: Vec<usize> = (0..processes).map(|_| rng.gen_range(0..count)).collect();
    for (twin, original) in twinned.iter().enumerate() {
        if rng.gen_range(0..4) > 0 && group_of[validators + twin] == group_of[*original] {
            group_of[validators + twin] = (group_of[*original] + 1) % count;
        }
    }
    (0..count)
        .map(|group| {
            (0..processes)
                .filter(|process| group_of[*process] == group)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_one_schedule_and_twins_stay_within_what_the_cell_tolerates() {
        for seed in 0..200 {
            let schedule = Schedule::generate(seed, 8_000);
            let again = Schedule::generate(seed, 8_000);
            assert_eq!(format!("{schedule:?}"), format!("{again:?}"));
            assert!((4..=7).contains(&schedule.validators));
            let tolerated = (schedule.validators - 1) / 3;
            assert!((1..=tolerated).contains(&schedule.twinned.len()));
            assert!(schedule.faults.windows(2).all(|pair| pair[0].0 < pair[1].0));
            assert!(schedule
                .faults
                .iter()
                .all(|(at, _)| *at < schedule.heal_at_ms));
        }
    }
}
