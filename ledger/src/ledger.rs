//! [`Ledger`]: a cell's state on a [`Storage`], advanced one block at a time.
//!
//! `prepare_block` executes a block and computes its state root without writing anything (a
//! validator uses it to check a proposal); `commit` then writes that block atomically. Versions
//! of the state tree are block heights; genesis is version 0.

use crate::commitment::{key_hash, StateProof, StateRoot, Tree, TreeView};
use crate::crypto::bls::{BlsPublicKey, BlsSignature};
use crate::execution::{
    execute_block, CheckedTransaction, Overlay, Receipt, StateChanges, StateReader,
};
use crate::genesis::{Genesis, GenesisError};
use crate::governance::{
    reveal_is_valid, BeaconReveal, Electorate, Juror, JuryCase, JuryCaseId, Process, ProcessId,
    SignedReveal,
};
use crate::ids::{Amount, Height, PassportId};
use crate::state::*;
use crate::storage::{Commit, Storage, StorageError};
use crate::transaction::SignedTransaction;
use jmt::KeyHash;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("invalid genesis: {0}")]
    Genesis(#[from] GenesisError),
    #[error("the ledger already has a genesis")]
    AlreadyInitialized,
    #[error("the ledger has no genesis yet")]
    NotInitialized,
    #[error("no state at height {requested}; the latest is {latest}")]
    UnknownHeight { requested: Height, latest: Height },
    #[error("block {prepared} was prepared on another height; the next block is {expected}")]
    StalePreparedBlock { prepared: Height, expected: Height },
    #[error("state tree error: {0}")]
    Tree(String),
    #[error("conservation violated: {0:?}")]
    ConservationViolated(Box<SupplyAudit>),
    #[error("a reveal verified for block {verified_for} cannot prepare block {next}")]
    StaleReveal { verified_for: Height, next: Height },
    #[error("invalid beacon reveal from {proposer}: {reason}")]
    InvalidReveal {
        proposer: PassportId,
        reason: &'static str,
    },
    #[error("the electorate in state is {stored:?}; state holds {counted:?}")]
    ElectorateMismatch {
        stored: Box<Electorate>,
        counted: Box<Electorate>,
    },
}

fn tree_error(error: anyhow::Error) -> LedgerError {
    match error.downcast::<StorageError>() {
        Ok(storage) => LedgerError::Storage(storage),
        Err(other) => LedgerError::Tree(format!("{other:#}")),
    }
}

/// A proposer's beacon reveal known good for one height: checked by [`Ledger::verify_reveal`],
/// or this validator's own, signed with its registered key ([`Ledger::own_reveal`]). A block is
/// prepared only with one, so that preparing a block several times (a proposer trimming its
/// candidates, a validator committing the block it validated) checks the signature at most
/// once. [`Ledger::prepare_proposed_block`] prepares with a reveal still being checked, and
/// returns nothing unless the check passes.
#[derive(Clone, Debug)]
pub struct VerifiedReveal {
    signature: BlsSignature,
    height: Height,
}

impl VerifiedReveal {
    pub fn signature(&self) -> &BlsSignature {
        &self.signature
    }
}

/// A block executed and committed to, not yet written.
pub struct PreparedBlock {
    pub height: Height,
    pub state_root: StateRoot,
    pub receipts: Vec<Receipt>,
    commit: Commit,
}

/// What committing a block produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedBlock {
    pub height: Height,
    pub state_root: StateRoot,
    pub receipts: Vec<Receipt>,
}

/// Where every unit of the supply is, summed over all of state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SupplyAudit {
    pub total_supply: Amount,
    pub balances: u128,
    pub bonded: u128,
    pub unbonding: u128,
    pub escrowed: u128,
    pub treasury: u128,
    /// What jurors have locked as their bonds.
    pub jury_bonds: u128,
}

impl SupplyAudit {
    /// Conservation: balances + bonds + unbonding + escrows + treasury + jurors' bonds =
    /// total supply.
    pub fn is_conserved(&self) -> bool {
        self.balances
            + self.bonded
            + self.unbonding
            + self.escrowed
            + self.treasury
            + self.jury_bonds
            == u128::from(self.total_supply)
    }
}

pub struct Ledger<S: Storage> {
    storage: S,
    height: Option<Height>,
}

/// Committed state as of one version.
struct StateAt<'a, S: ?Sized> {
    storage: &'a S,
    version: Height,
}

impl<S: Storage + ?Sized> StateReader for StateAt<'_, S> {
    fn read(&self, key: &StateKey) -> Result<Option<Vec<u8>>, StorageError> {
        self.storage.value(self.version, key_hash(key))
    }
}

impl<S: Storage> Ledger<S> {
    pub fn open(storage: S) -> Result<Self, LedgerError> {
        let height = storage.latest_version()?;
        Ok(Self { storage, height })
    }

    /// The height of the last committed block (0 after genesis), `None` before genesis.
    pub fn height(&self) -> Option<Height> {
        self.height
    }

    /// Re-reads the latest committed height from storage: for a read-only handle that shares
    /// its storage with the ledger that commits (an API serving reads beside consensus).
    pub fn refresh(&mut self) -> Result<(), LedgerError> {
        self.height = self.storage.latest_version()?;
        Ok(())
    }

    pub fn storage(&self) -> &S {
        &self.storage
    }

    pub fn init_genesis(&mut self, genesis: &Genesis) -> Result<StateRoot, LedgerError> {
        if self.height.is_some() {
            return Err(LedgerError::AlreadyInitialized);
        }
        let changes = genesis.initial_state()?;
        let (state_root, commit) = self.commitment(changes, 0)?;
        self.storage.commit(commit)?;
        self.height = Some(0);
        Ok(state_root)
    }

    fn latest(&self) -> Result<Height, LedgerError> {
        self.height.ok_or(LedgerError::NotInitialized)
    }

    fn state_at(&self, height: Height) -> Result<StateAt<'_, S>, LedgerError> {
        let latest = self.latest()?;
        if height > latest {
            return Err(LedgerError::UnknownHeight {
                requested: height,
                latest,
            });
        }
        Ok(StateAt {
            storage: &self.storage,
            version: height,
        })
    }

    /// The latest committed state, for running transactions against it without committing
    /// (a mempool checks admissions this way).
    pub fn latest_state(&self) -> Result<impl StateReader + '_, LedgerError> {
        self.state_at(self.latest()?)
    }

    /// Executes the next block on the latest state and computes its root; writes nothing. A
    /// block without a reveal leaves the beacon as it is (a proposed block always has one).
    pub fn prepare_block(
        &self,
        transactions: &[CheckedTransaction<'_>],
    ) -> Result<PreparedBlock, LedgerError> {
        self.prepare(None, transactions)
    }

    /// Checks a proposer's reveal for the next block: it must be the BLS signature, over the
    /// block's height, of a validator of that height.
    pub fn verify_reveal(&self, reveal: &BeaconReveal) -> Result<VerifiedReveal, LedgerError> {
        let latest = self.latest()?;
        let height = latest + 1;
        check_reveal(&self.state_at(latest)?, height, reveal)?;
        Ok(VerifiedReveal {
            signature: reveal.signature,
            height,
        })
    }

    /// This validator's own reveal for the next block, which it proposes as `proposer`. It
    /// needs no pairing check: `signed` is the signature of the key `proposer` registered,
    /// over this block of this cell, as only signing makes a [`SignedReveal`].
    pub fn own_reveal(
        &self,
        proposer: PassportId,
        signed: &SignedReveal,
    ) -> Result<VerifiedReveal, LedgerError> {
        let latest = self.latest()?;
        let height = latest + 1;
        let (cell, registered) = revealer(&self.state_at(latest)?, proposer)?;
        let signature = (signed.signature_for(&registered, cell.federation, cell.cell, height))
            .ok_or(LedgerError::InvalidReveal {
                proposer,
                reason: "it is not signed with the key this validator's passport registered, for this block of this cell",
            })?;
        debug_assert!(
            reveal_is_valid(&registered, cell.federation, cell.cell, height, &signature),
            "a signature made with a secret key verifies under its public key"
        );
        Ok(VerifiedReveal { signature, height })
    }

    /// Verifies a proposer's reveal as [`Ledger::verify_reveal`] does and executes the next
    /// block with it as [`Ledger::prepare_revealed_block`] does, the pairing check on a thread
    /// of its own beside the execution: a validator judging a proposal waits for the longer
    /// of the two rather than for both. Nothing prepared is returned unless the reveal
    /// verified.
    pub fn prepare_proposed_block(
        &self,
        reveal: &BeaconReveal,
        transactions: &[CheckedTransaction<'_>],
    ) -> Result<PreparedBlock, LedgerError>
    where
        S: Sync,
    {
        let height = self.latest()? + 1;
        let unchecked = VerifiedReveal {
            signature: reveal.signature,
            height,
        };
        let (verified, prepared) = std::thread::scope(|scope| {
            let verifying = (std::thread::Builder::new().name("reveal-check".into()))
                .spawn_scoped(scope, || self.verify_reveal(reveal));
            let prepared = self.prepare(Some(&unchecked), transactions);
            let verified = match verifying {
                Ok(verifying) => {
                    (verifying.join()).unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                }
                // Without a thread to spare, the check runs here after the execution.
                Err(_) => self.verify_reveal(reveal),
            };
            (verified, prepared)
        });
        verified?;
        prepared
    }

    /// Executes the next block as [`Ledger::prepare_block`] does, mixing its proposer's
    /// verified reveal into the beacon.
    pub fn prepare_revealed_block(
        &self,
        reveal: &VerifiedReveal,
        transactions: &[CheckedTransaction<'_>],
    ) -> Result<PreparedBlock, LedgerError> {
        self.prepare(Some(reveal), transactions)
    }

    fn prepare(
        &self,
        reveal: Option<&VerifiedReveal>,
        transactions: &[CheckedTransaction<'_>],
    ) -> Result<PreparedBlock, LedgerError> {
        let latest = self.latest()?;
        let height = latest + 1;
        let state = self.state_at(latest)?;
        if let Some(reveal) = reveal.filter(|reveal| reveal.height != height) {
            return Err(LedgerError::StaleReveal {
                verified_for: reveal.height,
                next: height,
            });
        }
        let signature = reveal.map(|reveal| &reveal.signature);
        let outcome = execute_block(&state, height, signature, transactions)?;
        let (state_root, commit) = self.commitment(outcome.changes, height)?;
        Ok(PreparedBlock {
            height,
            state_root,
            receipts: outcome.receipts,
            commit,
        })
    }

    /// Writes a prepared block to this ledger's storage. In debug builds it then audits
    /// conservation over all of state, and a violation (a bug, never an input error) is
    /// returned so the node stops there.
    pub fn commit(&mut self, prepared: PreparedBlock) -> Result<(), LedgerError> {
        self.expect_next(&prepared)?;
        self.storage.commit(prepared.commit)?;
        self.committed(prepared.height)
    }

    /// Commits a prepared block through `write`, which must store its state changes durably
    /// in this ledger's storage together with whatever else belongs to the same atomic write
    /// (a node writes the block beside them), or fail having stored nothing. Audits as
    /// [`Ledger::commit`] does.
    pub fn commit_with<E: From<LedgerError>>(
        &mut self,
        prepared: PreparedBlock,
        write: impl FnOnce(Commit) -> Result<(), E>,
    ) -> Result<(), E> {
        self.expect_next(&prepared)?;
        write(prepared.commit)?;
        Ok(self.committed(prepared.height)?)
    }

    fn expect_next(&self, prepared: &PreparedBlock) -> Result<(), LedgerError> {
        let expected = self.latest()? + 1;
        if prepared.height != expected {
            return Err(LedgerError::StalePreparedBlock {
                prepared: prepared.height,
                expected,
            });
        }
        Ok(())
    }

    /// Moves this handle to `height`, just written, and audits conservation in debug builds.
    fn committed(&mut self, height: Height) -> Result<(), LedgerError> {
        debug_assert_eq!(self.storage.latest_version(), Ok(Some(height)));
        self.height = Some(height);
        if cfg!(debug_assertions) {
            let audit = self.audit_supply()?;
            if !audit.is_conserved() {
                return Err(LedgerError::ConservationViolated(Box::new(audit)));
            }
            let counted = self.count_electorate()?;
            let stored: Electorate = self.get(&StateKey::Electorate)?.unwrap_or_default();
            if stored != counted {
                return Err(LedgerError::ElectorateMismatch {
                    stored: Box::new(stored),
                    counted: Box::new(counted),
                });
            }
        }
        Ok(())
    }

    /// Counts the active passports of each tier and their bonds over all of state: what the
    /// electorate kept in state must equal. Reads all of state, as [`Ledger::audit_supply`].
    pub fn count_electorate(&self) -> Result<Electorate, LedgerError> {
        let state = self.state_at(self.latest()?)?;
        let overlay = Overlay::new(&state, None);
        let mut electorate = Electorate::default();
        for encoded in self.storage.state_keys()? {
            let key: StateKey = borsh::from_slice(&encoded)
                .map_err(|error| StorageError::Corrupt(format!("state key preimage: {error}")))?;
            let StateKey::Passport(id) = key else {
                continue;
            };
            let Some(passport) = overlay.get::<Passport>(&key)? else {
                continue;
            };
            if passport.status == PassportStatus::Active {
                let tier = usize::from(passport.tier);
                electorate.passports[tier] += 1;
                let bond: Option<Bond> = overlay.get(&StateKey::Bond(id))?;
                electorate.bonded[tier] += bond.map_or(0, |bond| bond.bonded);
            }
        }
        Ok(electorate)
    }

    /// Verifies signatures in a batch, executes and commits the next block.
    pub fn apply_block(
        &mut self,
        transactions: &[SignedTransaction],
    ) -> Result<AppliedBlock, LedgerError> {
        self.apply(None, transactions)
    }

    /// As [`Ledger::apply_block`], for a block with its proposer's reveal, which it verifies.
    pub fn apply_revealed_block(
        &mut self,
        reveal: &BeaconReveal,
        transactions: &[SignedTransaction],
    ) -> Result<AppliedBlock, LedgerError> {
        let verified = self.verify_reveal(reveal)?;
        self.apply(Some(&verified), transactions)
    }

    fn apply(
        &mut self,
        reveal: Option<&VerifiedReveal>,
        transactions: &[SignedTransaction],
    ) -> Result<AppliedBlock, LedgerError> {
        let checked = CheckedTransaction::verify_all(transactions);
        let mut prepared = self.prepare(reveal, &checked)?;
        let applied = AppliedBlock {
            height: prepared.height,
            state_root: prepared.state_root,
            receipts: std::mem::take(&mut prepared.receipts),
        };
        self.commit(prepared)?;
        Ok(applied)
    }

    fn commitment(
        &self,
        changes: StateChanges,
        version: Height,
    ) -> Result<(StateRoot, Commit), LedgerError> {
        let mut preimages = Vec::with_capacity(changes.len());
        let mut value_set: Vec<(KeyHash, Option<Vec<u8>>)> = Vec::with_capacity(changes.len());
        for (key, value) in changes {
            let encoded = key.encode();
            let hash = key_hash(&key);
            preimages.push((hash, encoded));
            value_set.push((hash, value));
        }
        let view = TreeView(&self.storage);
        let tree = Tree::new(&view);
        let (root, batch) = tree.put_value_set(value_set, version).map_err(tree_error)?;
        Ok((
            StateRoot(root.0),
            Commit {
                version,
                node_batch: batch.node_batch,
                preimages,
            },
        ))
    }

    pub fn state_root(&self, height: Height) -> Result<StateRoot, LedgerError> {
        self.state_at(height)?;
        let view = TreeView(&self.storage);
        let root = Tree::new(&view).get_root_hash(height).map_err(tree_error)?;
        Ok(StateRoot(root.0))
    }

    /// Reads a typed object from the latest state.
    pub fn get<T: StateObject>(&self, key: &StateKey) -> Result<Option<T>, LedgerError> {
        let state = self.state_at(self.latest()?)?;
        Ok(Overlay::new(&state, None).get(key)?)
    }

    /// The encoded value under `key` at `height` (or none) with a proof against that height's root.
    pub fn get_with_proof(
        &self,
        key: &StateKey,
        height: Height,
    ) -> Result<(Option<Vec<u8>>, StateProof), LedgerError> {
        self.state_at(height)?;
        let view = TreeView(&self.storage);
        let (value, proof) = Tree::new(&view)
            .get_with_proof(key_hash(key), height)
            .map_err(tree_error)?;
        Ok((value, StateProof::new(proof)))
    }

    /// How many governance processes the cell has had: the id the next one gets.
    pub fn process_count(&self) -> Result<u64, LedgerError> {
        Ok(self
            .get::<ProcessId>(&StateKey::NextProcess)?
            .map_or(0, |next| next.0))
    }

    /// At most `limit` processes with ids below `before` (all when `None`), newest first.
    pub fn processes(&self, before: Option<u64>, limit: u64) -> Result<Vec<Process>, LedgerError> {
        let count = self.process_count()?;
        self.newest_first(count, before, limit, |id| StateKey::Process(ProcessId(id)))
    }

    /// How many jury cases the cell has had: the id the next one gets.
    pub fn jury_case_count(&self) -> Result<u64, LedgerError> {
        Ok(self
            .get::<JuryCaseId>(&StateKey::NextJuryCase)?
            .map_or(0, |next| next.0))
    }

    /// At most `limit` jury cases with ids below `before` (all when `None`), newest first.
    pub fn jury_cases(
        &self,
        before: Option<u64>,
        limit: u64,
    ) -> Result<Vec<JuryCase>, LedgerError> {
        let count = self.jury_case_count()?;
        self.newest_first(count, before, limit, |id| {
            StateKey::JuryCase(JuryCaseId(id))
        })
    }

    /// Objects numbered from 0 to `count - 1`: at most `limit` below `before`, newest first.
    fn newest_first<T: StateObject>(
        &self,
        count: u64,
        before: Option<u64>,
        limit: u64,
        key: impl Fn(u64) -> StateKey,
    ) -> Result<Vec<T>, LedgerError> {
        let end = before.unwrap_or(count).min(count);
        let start = end.saturating_sub(limit);
        (start..end)
            .rev()
            .map(|id| {
                let key = key(id);
                let object = self.get(&key)?;
                Ok(object.ok_or_else(|| {
                    StorageError::Corrupt(format!("{key:?} is below the next id but missing"))
                })?)
            })
            .collect()
    }

    /// The validator set of the current epoch, as fixed at its first block.
    pub fn active_validators(&self) -> Result<ActiveValidators, LedgerError> {
        Ok(self.get(&StateKey::ActiveValidators)?.ok_or_else(|| {
            StorageError::Corrupt("the active validator set is missing from state".into())
        })?)
    }

    /// Sums every holding in the latest state. Reads all of state: for tests, audits and debug
    /// builds, not for hot paths.
    pub fn audit_supply(&self) -> Result<SupplyAudit, LedgerError> {
        let state = self.state_at(self.latest()?)?;
        let overlay = Overlay::new(&state, None);
        let cell: CellInfo = overlay.require(&StateKey::Cell)?;
        let mut audit = SupplyAudit {
            total_supply: cell.total_supply,
            ..Default::default()
        };
        for encoded in self.storage.state_keys()? {
            let key: StateKey = borsh::from_slice(&encoded)
                .map_err(|error| StorageError::Corrupt(format!("state key preimage: {error}")))?;
            match &key {
                StateKey::Passport(_) => {
                    if let Some(passport) = overlay.get::<Passport>(&key)? {
                        audit.balances += u128::from(passport.balance);
                    }
                }
                StateKey::Bond(_) => {
                    if let Some(bond) = overlay.get::<Bond>(&key)? {
                        audit.bonded += u128::from(bond.bonded);
                        audit.unbonding += bond
                            .unbonding
                            .iter()
                            .map(|entry| u128::from(entry.amount))
                            .sum::<u128>();
                    }
                }
                StateKey::Escrow(_) => {
                    if let Some(escrow) = overlay.get::<Escrow>(&key)? {
                        audit.escrowed += u128::from(escrow.held());
                    }
                }
                StateKey::Treasury => {
                    audit.treasury += u128::from(overlay.require::<Treasury>(&key)?.balance);
                }
                StateKey::Juror(_) => {
                    if let Some(juror) = overlay.get::<Juror>(&key)? {
                        audit.jury_bonds += u128::from(juror.bond);
                    }
                }
                _ => {}
            }
        }
        Ok(audit)
    }
}

/// A block's reveal must be the BLS signature, over the block's height, of a validator of
/// that height: the one that proposed it.
fn check_reveal(
    state: &dyn StateReader,
    height: Height,
    reveal: &BeaconReveal,
) -> Result<(), LedgerError> {
    let (cell, key) = revealer(state, reveal.proposer)?;
    if !reveal_is_valid(&key, cell.federation, cell.cell, height, &reveal.signature) {
        return Err(LedgerError::InvalidReveal {
            proposer: reveal.proposer,
            reason: "it is not the proposer's BLS signature over this height",
        });
    }
    Ok(())
}

/// The cell and the BLS key `proposer` registered, if it is a validator of the height after
/// `state`: what a reveal for that height is checked against.
fn revealer(
    state: &dyn StateReader,
    proposer: PassportId,
) -> Result<(CellInfo, BlsPublicKey), LedgerError> {
    let view = Overlay::new(state, None);
    let cell: CellInfo = view.require(&StateKey::Cell)?;
    let active: ActiveValidators = view.require(&StateKey::ActiveValidators)?;
    (active.members.iter())
        .find(|member| member.passport == proposer)
        .map(|member| (cell, member.bls_key))
        .ok_or(LedgerError::InvalidReveal {
            proposer,
            reason: "the proposer is not a validator of this height",
        })
}
