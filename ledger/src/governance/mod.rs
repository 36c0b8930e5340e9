//! Governance on the ledger: the chamber rules, the processes they govern, ballots and
//! delegations. The types live here; the rules that change them run in `execution`
//! (`processes`, `delegation`, `tally`, `deadlines`, `electorate`, `juries`, `beacon`).

/// An id that numbers a cell's objects of one kind from 0, in the order they were made: a
/// `u64`, a plain number in JSON.
macro_rules! numbered_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            borsh::BorshSerialize,
            borsh::BorshDeserialize,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

mod jury;
mod parameters;
mod process;
mod rules;

pub use jury::*;
pub use parameters::Parameter;
pub use process::*;
pub use rules::*;
