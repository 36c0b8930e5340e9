//! How a node learns it should stop: SIGINT (Ctrl-C, and what `charter localnet` sends its
//! validators) or SIGTERM (what service managers send).

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Listens from the moment it is made: a signal that arrives while nobody is waiting on
/// [`StopSignals::recv`] (say, while a block is being reported) is kept, not lost, as it would
/// be with a fresh `tokio::signal::ctrl_c()` future per wait.
pub struct StopSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl StopSignals {
    /// Must be called inside a Tokio runtime.
    pub fn listen() -> std::io::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Waits for the next stop signal, or returns at once if one came since the last call.
    /// Cancel-safe, so it can sit in a `select!` loop.
    pub async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
