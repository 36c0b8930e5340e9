//! The end of every block: the processes whose deadline it is move on, without anyone
//! submitting anything. An unsponsored process expires; a process whose voting closes is
//! tallied; a passed process executes. Each runs in id order, and an execution runs on an
//! overlay of its own, so one that breaks a rule leaves nothing behind.

use super::context::{Context, Failure};
use super::overlay::Overlay;
use super::processes::add_deadline;
use super::tally::tally;
use crate::governance::{Process, ProcessEvent, ProcessId, ProcessStatus};
use crate::ids::Height;
use crate::state::{CellInfo, StateKey};
use crate::storage::StorageError;

pub(super) fn run_deadlines(block: &mut Overlay<'_>, height: Height) -> Result<(), StorageError> {
    let key = StateKey::ProcessesDue(height);
    let Some(due) = block.get::<Vec<ProcessId>>(&key)? else {
        return Ok(());
    };
    block.delete(key);
    for id in due {
        let mut process: Process = block.require(&StateKey::Process(id))?;
        advance(block, height, &mut process)?;
        block.put(StateKey::Process(id), &process);
    }
    Ok(())
}

/// Moves the process on if this is its deadline. A vetoed process, or one whose earlier
/// deadline (its sponsoring's end) has passed, is left as it is.
fn advance(
    block: &mut Overlay<'_>,
    height: Height,
    process: &mut Process,
) -> Result<(), StorageError> {
    let schedule = process.schedule.clone();
    match process.status {
        ProcessStatus::Sponsoring if process.sponsoring_closes() == height => {
            process.status = ProcessStatus::Expired;
            process.history.push(ProcessEvent::Expired { height });
        }
        ProcessStatus::Open if schedule.as_ref().is_some_and(|s| s.voting_closes == height) => {
            process.tallies = tally(block, process)?;
            let passed = process.tallies.iter().all(|chamber| chamber.passed);
            process
                .history
                .push(ProcessEvent::Tallied { height, passed });
            if !passed {
                process.status = ProcessStatus::Rejected;
                return Ok(());
            }
            process.status = ProcessStatus::Passed;
            let executes_at = schedule.expect("checked above").executes_at;
            if executes_at == height {
                execute(block, height, process)?;
            } else {
                add_deadline(block, executes_at, process.id)?;
            }
        }
        ProcessStatus::Passed if schedule.is_some_and(|s| s.executes_at == height) => {
            execute(block, height, process)?;
        }
        _ => {}
    }
    Ok(())
}

/// Runs the process's proposal on the cell as it stands at this point of the block: with any
/// parameter an earlier execution here changed.
fn execute(
    block: &mut Overlay<'_>,
    height: Height,
    process: &mut Process,
) -> Result<(), StorageError> {
    let cell: CellInfo = block.require(&StateKey::Cell)?;
    let mut attempt = Overlay::new(&*block, None);
    let mut ctx = Context {
        state: &mut attempt,
        cell: &cell,
        height,
        body: None,
    };
    match ctx.enact(process) {
        Ok(()) => {
            let changes = attempt.into_changes();
            block.merge(changes);
            process.status = ProcessStatus::Executed;
            process.history.push(ProcessEvent::Executed { height });
        }
        Err(Failure::Rejected(error)) => {
            process.status = ProcessStatus::Failed;
            process.history.push(ProcessEvent::ExecutionFailed {
                height,
                code: error.code().to_owned(),
            });
        }
        Err(Failure::Storage(error)) => return Err(error),
    }
    Ok(())
}
