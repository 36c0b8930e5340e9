//! Governance on the ledger: the chamber rules, the processes they govern, ballots and
//! delegations. The types live here; the rules that change them run in `execution`
//! (`processes`, `delegation`, `tally`, `deadlines`, `electorate`, `juries`, `beacon`).

mod jury;
mod parameters;
mod process;
mod rules;

pub use jury::*;
pub use parameters::Parameter;
pub use process::*;
pub use rules::*;
