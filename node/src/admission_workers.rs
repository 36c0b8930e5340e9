//! The threads that admit transactions, at a lower scheduling priority than everything else a
//! validator runs. Admission (decoding, verifying signatures, executing against the pool) is
//! most of a loaded validator's work, while a block waits on a few short steps: building or
//! judging the proposal, voting, committing. On cores shared with admission, those steps take
//! whatever share the scheduler gives them, and a block delayed by them gathers more
//! transactions, so the next is slower too. At a lower priority, admission takes what the
//! block's steps leave and delays them little.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use thiserror::Error;
use tokio::sync::oneshot;

/// How much lower than the rest of the process admission's threads run (Linux nice, 0 to 19):
/// under contention such a thread gets about a tenth of the time of one at the normal priority.
/// Giving peers' gossip a priority between consensus and clients' submissions (5 and 10, or 10
/// and 15) measured worse at half the cell's rate (`docs/performance.md`, section 21).
pub const ADMISSION_NICENESS: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Debug, Error)]
pub enum WorkersError {
    #[error("starting an admission thread: {0}")]
    Start(#[source] std::io::Error),
    #[error("the admission job failed, or the admission threads have stopped")]
    Failed,
}

/// A fixed set of low-priority threads taking jobs in the order they come.
pub struct AdmissionWorkers {
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl AdmissionWorkers {
    /// Starts `threads` threads (at least one), [`ADMISSION_NICENESS`] below the process's
    /// priority. They end once the workers are dropped and the jobs already given have run.
    pub fn start(threads: usize) -> Result<Self, WorkersError> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads.max(1) {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("admission-{index}"))
                .spawn(move || {
                    lower_this_threads_priority();
                    while let Some(job) = next_job(&receiver) {
                        // A job that panics loses its result (its caller sees `Failed`), not
                        // the thread.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
                .map_err(WorkersError::Start)?;
        }
        Ok(Self {
            jobs: Mutex::new(sender),
        })
    }

    /// One thread per core this process may use.
    pub fn for_this_machine() -> Result<Self, WorkersError> {
        Self::start(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// Runs `work` on an admission thread and waits for its result.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WorkersError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        let sent = (self.jobs.lock())
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .send(job);
        sent.map_err(|_| WorkersError::Failed)?;
        result.await.map_err(|_| WorkersError::Failed)
    }
}

fn next_job(receiver: &Mutex<mpsc::Receiver<Job>>) -> Option<Job> {
    let receiver = receiver
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    receiver.recv().ok()
}

/// Linux keeps a nice value per thread; elsewhere admission runs at the normal priority.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `gettid` has no preconditions, and `setpriority` on this thread's id only
        // changes its own scheduling priority.
        let lowered = unsafe {
            let thread = libc::gettid() as libc::id_t;
            let current = libc::getpriority(libc::PRIO_PROCESS, thread);
            libc::setpriority(
                libc::PRIO_PROCESS,
                thread,
                (current + ADMISSION_NICENESS).min(19),
            )
        };
        if lowered != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "could not lower an admission thread's priority; it competes with consensus"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_runs_on_an_admission_thread_and_its_result_comes_back() {
        let workers = AdmissionWorkers::start(2).unwrap();
        let name = workers
            .run(|| std::thread::current().name().map(String::from))
            .await
            .unwrap();
        assert!(name.is_some_and(|name| name.starts_with("admission-")));
    }

    #[tokio::test]
    async fn a_job_that_panics_fails_alone_and_the_threads_go_on() {
        let workers = AdmissionWorkers::start(1).unwrap();
        let failed = workers.run(|| panic!("a bug in a job")).await;
        assert!(matches!(failed, Err(WorkersError::Failed)));
        assert_eq!(workers.run(|| 7).await.unwrap(), 7);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn admission_threads_run_at_the_lower_priority() {
        let workers = AdmissionWorkers::start(1).unwrap();
        let niceness = workers
            .run(|| {
                // SAFETY: as above; reading this thread's own priority.
                unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
            })
            .await
            .unwrap();
        // SAFETY: as above.
        let here = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        assert_eq!(niceness, (here + ADMISSION_NICENESS).min(19));
    }
}
