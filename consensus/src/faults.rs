//! Crashes injected on purpose, as values passed in: the crash tests and the fault harness
//! start a validator with a [`FaultPlan`] (`charter run --crash-during-commit N`, say), and a
//! validator started without one runs [`FaultPlan::default`], which never crashes. Nothing here
//! reads the environment.

/// A point in the code where the process aborts the n-th time it is reached, as a crash there
/// would stop it (no destructor runs, nothing is flushed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrashPoint {
    /// Passes left before the crash; `None` never crashes.
    remaining: Option<u64>,
}

impl CrashPoint {
    /// Aborts the `n`-th time the point is reached (`n` ≥ 1); `at(0)` never does.
    pub fn at(n: u64) -> Self {
        Self {
            remaining: (n > 0).then_some(n),
        }
    }

    /// Marks the point reached; aborts the process if this is the pass it was set for.
    pub fn reached(&mut self, what: &str) {
        let Some(remaining) = &mut self.remaining else {
            return;
        };
        debug_assert!(*remaining > 0, "a spent crash point is cleared");
        *remaining -= 1;
        if *remaining == 0 {
            tracing::error!("injected crash: {what}");
            std::process::abort();
        }
    }
}

/// Every crash a validator can be told to inject.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// After a block is decided, before anything of it is written.
    pub before_commit: CrashPoint,
    /// After a block and its state changes are written (one batch), before the node acts on
    /// it: announces it, updates its mempool, signs the next height.
    pub during_commit: CrashPoint,
    /// After the guarded signer persisted a new position and before it signs there: the
    /// instant the guard exists for.
    pub after_signer_persists: CrashPoint,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_never_set_or_set_at_zero_never_crashes() {
        for mut point in [CrashPoint::default(), CrashPoint::at(0)] {
            for _ in 0..1_000 {
                point.reached("never");
            }
        }
    }

    #[test]
    fn a_point_counts_down_to_its_pass() {
        let mut point = CrashPoint::at(3);
        point.reached("first");
        point.reached("second");
        assert_eq!(point, CrashPoint::at(1), "one pass left");
    }
}
