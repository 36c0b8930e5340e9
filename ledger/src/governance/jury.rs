//! Juries: passports that bond to serve, escrow disputes and slash cases sent to a jury drawn
//! from them by sortition, and the cell's beacon that seeds each draw.
//!
//! The beacon is a hash chain of unique BLS signatures: each block's proposer reveals its
//! signature over the height, which it cannot choose (BLS signatures are unique), only
//! withhold by not proposing. A case fixes its pool when it is filed and draws at a later
//! height from the beacon of that height, so nobody knows the jury when the case and its pool
//! are fixed, and no single participant chooses the seed.

use crate::crypto::bls::{BlsPublicKey, BlsSecretKey, BlsSignature};
use crate::ids::{Amount, BeaconMix, CaseId, CellId, EscrowId, FederationId, Height, PassportId};
use crate::state::MAX_TIER;
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// What a block's proposer signs with its BLS key to reveal its share of the beacon.
pub const BEACON_DOMAIN: &[u8] = b"CHARTER_BEACON_V1";
/// What the beacon starts from at genesis, before any reveal.
pub const BEACON_GENESIS_DOMAIN: &[u8] = b"charter/beacon/v1";
/// What a passport's sortition score hashes.
pub const SORTITION_DOMAIN: &[u8] = b"charter/jury/v1";
/// Most passports the jury pool holds; a case copies the pool, so this bounds a case too.
pub const MAX_JURY_POOL: usize = 1_024;
/// Most jurors a case draws.
pub const MAX_JURY_SIZE: u32 = 63;

/// How juries are drawn and paid for: part of the governance rules.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JuryRules {
    /// Jurors drawn per case: odd, so that a jury where everyone rules cannot tie.
    pub size: u32,
    /// Passports of tiers `min_tier..=max_tier` may join the pool.
    pub min_tier: u8,
    pub max_tier: u8,
    /// What a juror locks to join the pool.
    pub juror_bond: Amount,
    /// What a drawn juror who does not rule loses from its bond, to the treasury.
    pub absence_penalty: Amount,
    /// Blocks between filing a case and drawing its jury.
    pub draw_delay: Height,
    /// Blocks after the draw during which the jurors rule.
    pub ruling_blocks: Height,
}

impl Default for JuryRules {
    fn default() -> Self {
        Self {
            size: 3,
            min_tier: 0,
            max_tier: MAX_TIER,
            juror_bond: 100,
            absence_penalty: 10,
            draw_delay: 5,
            ruling_blocks: 20,
        }
    }
}

impl JuryRules {
    /// Blocks from leaving the pool until the bond returns: long enough for every case whose
    /// pool included the juror to be drawn and closed, so that an absence can still be charged.
    pub fn notice_blocks(&self) -> Height {
        self.draw_delay + self.ruling_blocks + 1
    }
}

/// A proposer's share of the beacon: its BLS signature over [`reveal_message`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BeaconReveal {
    pub proposer: PassportId,
    pub signature: BlsSignature,
}

/// A validator's reveal for the block at one height of one cell, signed with its key. Only
/// [`SignedReveal::sign`] makes one, so whoever holds it knows the signature is that key's over
/// that height's [`reveal_message`] without a pairing to check it; it can be made ahead, off the
/// path of the block it is for.
#[derive(Clone, Debug)]
pub struct SignedReveal {
    federation: FederationId,
    cell: CellId,
    height: Height,
    key: BlsPublicKey,
    signature: BlsSignature,
}

impl SignedReveal {
    pub fn sign(
        key: &BlsSecretKey,
        federation: FederationId,
        cell: CellId,
        height: Height,
    ) -> Self {
        Self {
            federation,
            cell,
            height,
            key: key.public_key(),
            signature: key.sign(&reveal_message(federation, cell, height)),
        }
    }

    /// The reveal, if it is `key`'s for this block of this cell.
    pub(crate) fn signature_for(
        &self,
        key: &BlsPublicKey,
        federation: FederationId,
        cell: CellId,
        height: Height,
    ) -> Option<BlsSignature> {
        let mine = (self.key, self.federation, self.cell, self.height);
        (mine == (*key, federation, cell, height)).then_some(self.signature)
    }
}

/// The bytes a proposer signs for the block at `height`: the domain, then the federation id
/// (32 bytes), the cell (u32 little-endian) and the height (u64 little-endian).
pub fn reveal_message(federation: FederationId, cell: CellId, height: Height) -> Vec<u8> {
    let mut message = BEACON_DOMAIN.to_vec();
    message.extend_from_slice(&federation.0);
    message.extend_from_slice(&cell.0.to_le_bytes());
    message.extend_from_slice(&height.to_le_bytes());
    message
}

/// The cell's randomness after the block at `height`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Beacon {
    /// The last height whose reveal it mixes (0: none yet).
    pub height: Height,
    pub mix: BeaconMix,
}

impl Beacon {
    /// `blake3(domain ‖ federation ‖ cell)`: known to all, chosen by none.
    pub fn genesis(federation: FederationId, cell: CellId) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(BEACON_GENESIS_DOMAIN);
        hasher.update(&federation.0);
        hasher.update(&cell.0.to_le_bytes());
        Self {
            height: 0,
            mix: BeaconMix(*hasher.finalize().as_bytes()),
        }
    }

    /// `mix(h) = blake3(mix(h − 1) ‖ reveal(h))`.
    pub fn mixed(&self, height: Height, reveal: &BlsSignature) -> Self {
        debug_assert!(height > self.height, "the beacon mixes forward");
        let mut hasher = blake3::Hasher::new();
        hasher.update(&self.mix.0);
        hasher.update(&reveal.0);
        Self {
            height,
            mix: BeaconMix(*hasher.finalize().as_bytes()),
        }
    }
}

/// Whether `reveal` is `key`'s signature for the block at `height`.
pub fn reveal_is_valid(
    key: &BlsPublicKey,
    federation: FederationId,
    cell: CellId,
    height: Height,
    reveal: &BlsSignature,
) -> bool {
    key.verify(&reveal_message(federation, cell, height), reveal)
        .is_ok()
}

/// A passport's standing in the jury pool.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Juror {
    /// What it has locked; absences take from it.
    pub bond: Amount,
    pub joined_at: Height,
    /// Set when it leaves the pool (or is removed for absence): the height at whose end
    /// the rest of its bond returns.
    pub released_at: Option<Height>,
}

numbered_id!(
    /// Numbers jury cases in the order they were filed in a cell, from 0.
    JuryCaseId
);

/// What a case is about. Each has a claim the jury rules on: an escrow's is its payee's (the
/// escrow should be paid to it); a slash case's is the arbiter's who filed it (the offender
/// should lose `amount` of its stake).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CaseSubject {
    /// A disputed escrow, filed by its payer or payee.
    Escrow(EscrowId),
    /// A slash of up to `amount` of the offender's stake under the arbiters' case number
    /// `case`, filed by a member of the arbiter panel.
    Slash {
        offender: PassportId,
        amount: Amount,
        case: CaseId,
    },
}

/// How a juror rules on a case's claim.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The claim holds: the escrow goes to its payee; the offender is slashed.
    ForClaim,
    /// The claim fails: the escrow returns to its payer; the offender keeps its stake.
    AgainstClaim,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Filed; the jury is drawn at the end of block `draw_at`.
    AwaitingDraw,
    /// Drawn; jurors rule until `closes_at`.
    Ruling,
    /// Closed; the escrow paid out, or the slash applied or not, by the majority.
    Settled,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct JurorRuling {
    pub juror: PassportId,
    pub verdict: Verdict,
    pub height: Height,
}

/// How a case closed: the count, the verdict it gave and the jurors who did not rule.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CaseOutcome {
    pub for_claim: u32,
    pub against_claim: u32,
    /// `ForClaim` only when more than half the jurors drawn ruled for the claim; otherwise an
    /// escrow returns to its payer and an offender keeps its stake.
    pub verdict: Verdict,
    pub absent: Vec<PassportId>,
    /// What the absent jurors lost, in total, to the treasury.
    pub penalties: Amount,
    /// What a slash case upheld took from the offender's stake into the treasury: at most its
    /// `amount`, and at most the stake it had (0 for an escrow, or a slash not upheld).
    pub slashed: Amount,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum CaseEvent {
    Filed { height: Height, by: PassportId },
    Drawn { height: Height },
    Settled { height: Height, verdict: Verdict },
}

impl CaseEvent {
    pub fn height(&self) -> Height {
        match self {
            CaseEvent::Filed { height, .. }
            | CaseEvent::Drawn { height }
            | CaseEvent::Settled { height, .. } => *height,
        }
    }
}

/// A case before a jury: everything a reader needs to check the draw (the pool, the seed) and
/// the ruling (the jurors' rulings, the rules it ran under).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct JuryCase {
    pub id: JuryCaseId,
    pub subject: CaseSubject,
    /// The version of the governance rules it was filed under, and their jury rules.
    pub rules_version: u64,
    pub rules: JuryRules,
    pub filed_at: Height,
    pub draw_at: Height,
    /// The last height at which a juror may rule; the case closes at the end of it.
    pub closes_at: Height,
    /// The pool when the case was filed, sorted, without the case's parties (an escrow's
    /// payer, payee and arbiter; a slash case's offender and filer): the passports it draws
    /// from.
    pub pool: Vec<PassportId>,
    /// The beacon at `draw_at`, once drawn.
    pub seed: Option<BeaconMix>,
    /// The jurors drawn, lowest score first.
    pub jurors: Vec<PassportId>,
    /// In the order they landed.
    pub rulings: Vec<JurorRuling>,
    pub status: CaseStatus,
    pub outcome: Option<CaseOutcome>,
    pub history: Vec<CaseEvent>,
}

/// What the end of a block does for juries at its height, in this order.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum JuryDeadline {
    Draw(JuryCaseId),
    Close(JuryCaseId),
    ReleaseJuror(PassportId),
}

/// A pool member's sortition score for a case: the lowest `size` scores sit.
pub fn sortition_score(seed: &BeaconMix, case: JuryCaseId, passport: &PassportId) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(SORTITION_DOMAIN);
    hasher.update(&seed.0);
    hasher.update(&case.0.to_le_bytes());
    hasher.update(&passport.0);
    *hasher.finalize().as_bytes()
}

/// The jury a seed draws from a pool: the `size` members with the lowest scores, lowest first
/// (a score tie, which blake3 makes practically impossible, goes to the lower passport id).
/// A pure function of its inputs, so anyone can check a draw from the case alone.
pub fn draw_jury(
    seed: &BeaconMix,
    case: JuryCaseId,
    pool: &[PassportId],
    size: u32,
) -> Vec<PassportId> {
    let mut scored: Vec<([u8; 32], PassportId)> = pool
        .iter()
        .map(|passport| (sortition_score(seed, case, passport), *passport))
        .collect();
    scored.sort_unstable();
    scored
        .into_iter()
        .take(size as usize)
        .map(|(_, passport)| passport)
        .collect()
}
