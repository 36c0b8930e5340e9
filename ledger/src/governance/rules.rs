//! The chamber rules: who sits in each chamber and with what weight, and, for each kind of
//! process, who may propose it, how long it runs and what it needs to pass. They are state:
//! set at genesis and changed only by a `RulesChange` process, which runs under its own
//! (normally the strictest) rules.

use super::jury::{JuryRules, MAX_JURY_SIZE};
use super::process::ProcessKind;
use crate::crypto::ed25519::Ed25519PublicKey;
use crate::ids::{Height, PassportId};
use crate::state::MAX_TIER;
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub const MAX_CHAMBERS: usize = 8;
pub const MAX_CHAMBER_NAME_BYTES: usize = 32;
/// Most seats a seated chamber has; a council election names at most this many passports.
pub const MAX_SEATS: usize = 64;
pub const MAX_GUARDIANS: usize = 16;
/// Most sponsors one sponsor rule asks for: a rule whose share comes to more is met by this
/// many, so a process records at most this many sponsors per rule.
pub const MAX_SPONSORS: u32 = 256;
/// Longest any period may be, in blocks.
pub const MAX_PERIOD_BLOCKS: Height = 10_000_000;
pub const MAX_DELEGATION_DEPTH: u8 = 16;
/// Highest rules version genesis may start from, leaving every later change room to count.
pub const MAX_VERSION: u64 = 1 << 32;
const BASIS_POINTS: u16 = 10_000;

/// Who is a member of a chamber. A member must also be an active passport.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Membership {
    /// Every passport whose tier is in `min..=max`.
    Tiers { min: u8, max: u8 },
    /// The passports named, in the order elected (by genesis or a council election).
    Seats(Vec<PassportId>),
}

/// What one member's vote weighs in a chamber.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Weighting {
    /// One passport, one vote.
    PerPassport,
    /// The member's bonded stake.
    Stake,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chamber {
    pub name: String,
    pub membership: Membership,
    pub weighting: Weighting,
}

/// A process of a kind needs sponsors from this chamber: at least `minimum` members, and at
/// least `share_bps` of the chamber's members (rounded up), capped at [`MAX_SPONSORS`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SponsorRule {
    pub chamber: u8,
    pub share_bps: u16,
    pub minimum: u32,
}

/// A chamber whose vote a kind of process needs. It passes the chamber when the weight that
/// voted (yes, no or abstain) is at least `quorum_bps` of the chamber's weight, and yes is at
/// least `threshold_bps` of yes and no together, and more than zero.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChamberVote {
    pub chamber: u8,
    pub quorum_bps: u16,
    pub threshold_bps: u16,
}

/// How one kind of process runs, in blocks from the height its sponsorship completes.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRules {
    /// Every rule must be met, each by members of its chamber.
    pub sponsors: Vec<SponsorRule>,
    /// A process not fully sponsored this many blocks after it was proposed expires.
    pub sponsoring_blocks: Height,
    /// Blocks of deliberation before voting opens.
    pub deliberation_blocks: Height,
    /// Blocks voting stays open; the tally runs at the end of its last block.
    pub voting_blocks: Height,
    /// Blocks between a passing tally and execution: the guardians' last window to veto.
    pub enactment_blocks: Height,
    /// It passes only if it passes every chamber listed.
    pub chambers: Vec<ChamberVote>,
}

/// Keys held by human guardians, `threshold` of which can veto any process before it
/// executes. No guardians (and threshold 0) means no process can be vetoed.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Guardians {
    pub keys: Vec<Ed25519PublicKey>,
    pub threshold: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceRules {
    /// 1 at genesis; each change (a rules change or a council election) adds one. Every
    /// process records the version it runs under.
    #[serde(default = "first_version")]
    pub version: u64,
    pub chambers: Vec<Chamber>,
    /// One entry per [`ProcessKind`], in the order of [`ProcessKind::ALL`].
    pub kinds: Vec<KindRules>,
    #[serde(default)]
    pub guardians: Guardians,
    /// Longest chain of delegations a vote follows (and a new delegation may extend).
    pub max_delegation_depth: u8,
    /// How juries are drawn for escrow disputes.
    pub juries: JuryRules,
}

fn first_version() -> u64 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("{0}")]
    Invalid(&'static str),
}

fn invalid(reason: &'static str) -> RulesError {
    RulesError::Invalid(reason)
}

impl GovernanceRules {
    pub fn kind(&self, kind: ProcessKind) -> &KindRules {
        &self.kinds[kind as usize]
    }

    pub fn chamber(&self, index: u8) -> &Chamber {
        &self.chambers[usize::from(index)]
    }

    /// Checks every rule's shape: what genesis and a rules change must pass. Seats are checked
    /// against state by whoever installs the rules.
    pub fn validate(&self) -> Result<(), RulesError> {
        if self.chambers.is_empty() || self.chambers.len() > MAX_CHAMBERS {
            return Err(invalid("there must be 1 to 8 chambers"));
        }
        let mut names = BTreeSet::new();
        for chamber in &self.chambers {
            validate_chamber(chamber)?;
            if !names.insert(chamber.name.as_str()) {
                return Err(invalid("two chambers share a name"));
            }
        }
        if self.kinds.len() != ProcessKind::ALL.len() {
            return Err(invalid("there must be one kind rule per process kind"));
        }
        for kind in &self.kinds {
            self.validate_kind(kind)?;
        }
        validate_guardians(&self.guardians)?;
        if self.max_delegation_depth == 0 || self.max_delegation_depth > MAX_DELEGATION_DEPTH {
            return Err(invalid("max_delegation_depth must be 1 to 16"));
        }
        if self.version == 0 || self.version > MAX_VERSION {
            return Err(invalid("the version is 1 to 2^32"));
        }
        validate_juries(&self.juries)
    }

    fn validate_kind(&self, kind: &KindRules) -> Result<(), RulesError> {
        let known = |chamber: u8| usize::from(chamber) < self.chambers.len();
        if kind.sponsors.is_empty() || kind.chambers.is_empty() {
            return Err(invalid("a kind needs a sponsor rule and a chamber vote"));
        }
        if kind.sponsors.len() > MAX_CHAMBERS {
            return Err(invalid("a kind has at most 8 sponsor rules"));
        }
        for rule in &kind.sponsors {
            if !known(rule.chamber) || rule.share_bps > BASIS_POINTS || rule.minimum == 0 {
                return Err(invalid("a sponsor rule needs a known chamber, a share of at most 10,000 bps and a minimum of at least 1"));
            }
            if rule.minimum > MAX_SPONSORS {
                return Err(invalid("a sponsor rule's minimum exceeds 256"));
            }
        }
        let mut voting = BTreeSet::new();
        for vote in &kind.chambers {
            if !known(vote.chamber) || !voting.insert(vote.chamber) {
                return Err(invalid(
                    "a chamber vote names an unknown chamber or one twice",
                ));
            }
            if vote.quorum_bps > BASIS_POINTS
                || !(5_000..=BASIS_POINTS).contains(&vote.threshold_bps)
            {
                return Err(invalid(
                    "a quorum is at most 10,000 bps and a threshold 5,000 to 10,000 bps",
                ));
            }
        }
        let periods = [
            kind.sponsoring_blocks,
            kind.deliberation_blocks,
            kind.voting_blocks,
            kind.enactment_blocks,
        ];
        if periods.iter().any(|blocks| *blocks > MAX_PERIOD_BLOCKS) {
            return Err(invalid("a period is longer than 10,000,000 blocks"));
        }
        if kind.sponsoring_blocks == 0 || kind.voting_blocks == 0 {
            return Err(invalid("sponsoring and voting last at least one block"));
        }
        Ok(())
    }
}

fn validate_chamber(chamber: &Chamber) -> Result<(), RulesError> {
    if chamber.name.is_empty() || chamber.name.len() > MAX_CHAMBER_NAME_BYTES {
        return Err(invalid("a chamber's name is 1 to 32 bytes"));
    }
    match &chamber.membership {
        Membership::Tiers { min, max } => {
            if min > max || *max > MAX_TIER {
                return Err(invalid("a chamber's tiers are min..=max within 0..=4"));
            }
        }
        Membership::Seats(seats) => {
            let distinct: BTreeSet<_> = seats.iter().collect();
            if seats.is_empty() || seats.len() > MAX_SEATS || distinct.len() != seats.len() {
                return Err(invalid("a seated chamber has 1 to 64 distinct seats"));
            }
        }
    }
    Ok(())
}

fn validate_juries(juries: &JuryRules) -> Result<(), RulesError> {
    if juries.size.is_multiple_of(2) || juries.size > MAX_JURY_SIZE {
        return Err(invalid("a jury has an odd number of jurors, at most 63"));
    }
    if juries.min_tier > juries.max_tier || juries.max_tier > MAX_TIER {
        return Err(invalid("jurors' tiers are min..=max within 0..=4"));
    }
    if juries.juror_bond == 0 || juries.absence_penalty > juries.juror_bond {
        return Err(invalid(
            "a juror's bond is positive and at least the absence penalty",
        ));
    }
    let periods = [juries.draw_delay, juries.ruling_blocks];
    if periods
        .iter()
        .any(|blocks| !(1..=MAX_PERIOD_BLOCKS).contains(blocks))
    {
        return Err(invalid(
            "a jury's draw delay and ruling period are 1 to 10,000,000 blocks",
        ));
    }
    Ok(())
}

fn validate_guardians(guardians: &Guardians) -> Result<(), RulesError> {
    let distinct: BTreeSet<_> = guardians.keys.iter().collect();
    if guardians.keys.len() > MAX_GUARDIANS || distinct.len() != guardians.keys.len() {
        return Err(invalid("at most 16 distinct guardian keys"));
    }
    if guardians
        .keys
        .iter()
        .any(|key| key.validate_canonical().is_err())
    {
        return Err(invalid(
            "a guardian key is not a canonical point of large order",
        ));
    }
    let count = guardians.keys.len() as u32;
    let threshold_fits = if count == 0 {
        guardians.threshold == 0
    } else {
        (1..=count).contains(&guardians.threshold)
    };
    if !threshold_fits {
        return Err(invalid(
            "the guardian threshold is 1 to the number of keys (0 with none)",
        ));
    }
    Ok(())
}

/// Chambers by tier: a core of tier 4, a council of tier 3 and the members of tiers 0 to 2,
/// each one passport one vote. Proposals come from the core; everything passes the core and
/// the members, and changes of the rules themselves pass all three by two thirds.
impl Default for GovernanceRules {
    fn default() -> Self {
        let tiers = |name: &str, min, max| Chamber {
            name: name.into(),
            membership: Membership::Tiers { min, max },
            weighting: Weighting::PerPassport,
        };
        let vote = |chamber, quorum_bps, threshold_bps| ChamberVote {
            chamber,
            quorum_bps,
            threshold_bps,
        };
        let kind = |deliberation_blocks, voting_blocks, chambers| KindRules {
            sponsors: vec![SponsorRule {
                chamber: 0,
                share_bps: 0,
                minimum: 1,
            }],
            sponsoring_blocks: 100,
            deliberation_blocks,
            voting_blocks,
            enactment_blocks: 10,
            chambers,
        };
        let bicameral = |threshold| vec![vote(0, 5_000, threshold), vote(2, 1_000, threshold)];
        let mut kinds: Vec<KindRules> = ProcessKind::ALL
            .iter()
            .map(|_| kind(20, 40, bicameral(5_001)))
            .collect();
        kinds[ProcessKind::ParameterChange as usize] = kind(20, 40, bicameral(6_667));
        kinds[ProcessKind::CellModeChange as usize] = kind(0, 20, vec![vote(0, 5_000, 5_001)]);
        kinds[ProcessKind::RulesChange as usize] = kind(
            40,
            80,
            vec![
                vote(0, 5_000, 6_667),
                vote(1, 5_000, 6_667),
                vote(2, 2_000, 6_667),
            ],
        );
        Self {
            version: 1,
            chambers: vec![
                tiers("core", 4, 4),
                tiers("council", 3, 3),
                tiers("members", 0, 2),
            ],
            kinds,
            guardians: Guardians::default(),
            max_delegation_depth: 4,
            juries: JuryRules::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_rules_are_valid() {
        GovernanceRules::default().validate().unwrap();
    }

    #[test]
    fn rules_with_a_threshold_below_half_or_an_unknown_chamber_are_refused() {
        let mut rules = GovernanceRules::default();
        rules.kinds[0].chambers[0].threshold_bps = 4_999;
        assert!(rules.validate().is_err());
        let mut rules = GovernanceRules::default();
        rules.kinds[0].sponsors[0].chamber = 3;
        assert!(rules.validate().is_err());
        let mut rules = GovernanceRules::default();
        rules.guardians.threshold = 1;
        assert!(rules.validate().is_err());
    }

    #[test]
    fn jury_rules_with_an_even_jury_or_a_penalty_above_the_bond_are_refused() {
        let mut rules = GovernanceRules::default();
        rules.juries.size = 4;
        assert!(rules.validate().is_err());
        let mut rules = GovernanceRules::default();
        rules.juries.absence_penalty = rules.juries.juror_bond + 1;
        assert!(rules.validate().is_err());
        let mut rules = GovernanceRules::default();
        rules.juries.draw_delay = 0;
        assert!(rules.validate().is_err());
    }
}
