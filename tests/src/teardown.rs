//! What a test makes outside its own process — `charter` processes, network namespaces, veths,
//! bridges — is registered here as it is made and forgotten as its owner removes it (on drop),
//! so that SIGINT, SIGTERM or SIGHUP (ctrl-C, nextest's timeout) can remove whatever is left
//! before the process ends, instead of leaving namespaces and validators behind. The handler
//! is installed with the first thing registered.
//!
//! Making or ending a thing and (un)registering it happen under one lock, and the handler keeps
//! that lock until the process exits: nothing is made after the handler has looked, and no pid
//! is signalled after its process was reaped (when the kernel may have given it to another).

use crate::netns;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::io;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Mutex, MutexGuard, Once};

/// Something made outside this process, in the order a teardown removes them: the processes
/// first, then the veths (which cuts namespaces off), the namespaces, and the bridges.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Made {
    Process(u32),
    Veth(String),
    Namespace(String),
    Bridge(String),
}

impl Made {
    /// Removes it; what is already gone (or was never made) fails quietly.
    fn remove(&self) -> io::Result<()> {
        match self {
            Made::Process(pid) => {
                let pid = Pid::from_raw(i32::try_from(*pid).map_err(io::Error::other)?);
                kill(pid, Signal::SIGKILL)?;
                // Reaped, so that it is gone when this process is, and its namespace with it.
                waitpid(pid, None).map(drop).map_err(io::Error::from)
            }
            Made::Veth(link) | Made::Bridge(link) => {
                netns::ip(None, &format!("link del {link}")).map(drop)
            }
            Made::Namespace(name) => netns::ip(None, &format!("netns del {name}")).map(drop),
        }
    }
}

static REGISTRY: Mutex<BTreeSet<Made>> = Mutex::new(BTreeSet::new());
static HANDLER: Once = Once::new();

fn registry() -> MutexGuard<'static, BTreeSet<Made>> {
    HANDLER.call_once(|| {
        if let Err(error) = ctrlc::set_handler(tear_down_and_exit) {
            eprintln!("teardown: no handler for SIGINT/SIGTERM ({error}); an interrupted run leaves what it made");
        }
    });
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs on the handler's own thread (ctrlc's), so it may lock and run commands.
fn tear_down_and_exit() {
    // Held until exit: the test's threads block at their next make or end.
    let registry = registry();
    eprintln!(
        "interrupted: removing the {} processes, links and namespaces this run made",
        registry.len()
    );
    for made in registry.iter() {
        if let Err(error) = made.remove() {
            eprintln!("teardown: {made:?}: {error}");
        }
    }
    std::process::exit(130);
}

/// Makes `what` with `make`. It is registered first, so that a signal in the middle of the
/// making removes whatever part of it exists.
pub(crate) fn make<T>(what: Made, make: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    let mut registry = registry();
    registry.insert(what);
    make()
}

/// Removes `what` now and forgets it.
pub(crate) fn remove(what: Made) -> io::Result<()> {
    let mut registry = registry();
    registry.remove(&what);
    what.remove()
}

/// Spawns `command`'s process, registered.
pub(crate) fn spawn(command: &mut Command) -> io::Result<Child> {
    let mut registry = registry();
    let child = command.spawn()?;
    registry.insert(Made::Process(child.id()));
    Ok(child)
}

/// How `child` ended, if it has; an ended child is forgotten.
pub(crate) fn try_wait(child: &mut Child) -> io::Result<Option<ExitStatus>> {
    let mut registry = registry();
    let status = child.try_wait()?;
    if status.is_some() {
        registry.remove(&Made::Process(child.id()));
    }
    Ok(status)
}

/// SIGKILLs `child`, reaps it and forgets it.
pub(crate) fn end(child: &mut Child) -> io::Result<ExitStatus> {
    let mut registry = registry();
    // An error here is a child already reaped; wait then says how it ended.
    let _ = child.kill();
    let status = child.wait()?;
    registry.remove(&Made::Process(child.id()));
    Ok(status)
}
