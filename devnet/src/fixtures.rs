//! Deterministic cells for local networks, tests and benchmarks: every key is derived from a
//! seed, so a failing run can be replayed exactly from the seed it prints.

use charter_ledger::crypto::bls::BlsSecretKey;
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::evidence::{
    ArbiterApproval, BridgeRulingTerms, ModeChangeTerms, RegistrationTerms, Ruling, RulingTerms,
    ValidatorApproval,
};
use charter_ledger::genesis::{Genesis, GenesisPassport, GenesisValidator};
use charter_ledger::governance::{
    reveal_message, BeaconReveal, GovernanceRules, GuardianApproval, Guardians, ProcessId,
    ProcessKind, SponsorRule, VetoTerms,
};
use charter_ledger::ids::{
    Amount, CaseId, CellId, CheckpointId, FederationId, Height, Nonce, PassportId,
};
use charter_ledger::state::{ArbiterPanel, CellMode, CellParams, MAX_TIER};
use charter_ledger::transaction::{
    Action, SignedTransaction, TransactionBody, ValidatorRegistration,
};

/// How many passports of each role a dev cell has, and what they hold.
#[derive(Clone, Debug)]
pub struct DevCellConfig {
    pub cell: CellId,
    pub validators: usize,
    pub arbiters: usize,
    /// Arbiter approvals a ruling needs.
    pub arbiter_threshold: u32,
    pub members: usize,
    pub balance: Amount,
    pub validator_bond: Amount,
    /// The last this many validators bond only `params.min_validator_bond`: a minor share of the
    /// power, as a Byzantine identity under test holds (with it down, the others keep a quorum
    /// with one more of them down).
    pub minor_validators: usize,
    pub params: CellParams,
    /// The chamber rules; their guardians are replaced by `guardians` keys derived from the
    /// seed, `guardian_threshold` of which can veto.
    pub governance: GovernanceRules,
    pub guardians: usize,
    pub guardian_threshold: u32,
}

/// The default chamber rules with periods short enough to watch a process run on a local
/// cell: sponsoring 50 blocks, deliberation 5, voting 15, enactment 5 (rules changes twice
/// as long). A resolution also needs sponsors from the members: 1% of them, at least 2.
/// Juries are drawn 3 blocks after filing and rule for 10.
pub fn dev_governance_rules() -> GovernanceRules {
    let mut rules = GovernanceRules::default();
    rules.kinds[ProcessKind::Resolution as usize]
        .sponsors
        .push(SponsorRule {
            chamber: 2,
            share_bps: 100,
            minimum: 2,
        });
    for (kind, rules) in ProcessKind::ALL.iter().zip(&mut rules.kinds) {
        let scale = if *kind == ProcessKind::RulesChange {
            2
        } else {
            1
        };
        rules.sponsoring_blocks = 50;
        rules.deliberation_blocks = 5 * scale;
        rules.voting_blocks = 15 * scale;
        rules.enactment_blocks = 5 * scale;
    }
    rules.juries.draw_delay = 3;
    rules.juries.ruling_blocks = 10;
    rules
}

impl Default for DevCellConfig {
    fn default() -> Self {
        Self {
            cell: CellId(0),
            validators: 4,
            arbiters: 3,
            arbiter_threshold: 2,
            members: 8,
            balance: 1_000_000,
            validator_bond: 10_000,
            minor_validators: 0,
            params: CellParams::default(),
            governance: dev_governance_rules(),
            guardians: 3,
            guardian_threshold: 2,
        }
    }
}

impl DevCellConfig {
    /// Cell `cell` with `validators`, `members` and epochs of `epoch_length` blocks (the
    /// genesis default when `None`); the rest as [`Default`].
    pub fn sized(
        cell: CellId,
        validators: usize,
        members: usize,
        epoch_length: Option<Height>,
    ) -> Self {
        let defaults = Self::default();
        let params = CellParams {
            epoch_length: epoch_length.unwrap_or(defaults.params.epoch_length),
            ..defaults.params.clone()
        };
        Self {
            cell,
            validators,
            members,
            params,
            ..defaults
        }
    }
}

/// One passport of a dev cell with the keys that control it.
#[derive(Clone, Debug)]
pub struct DevPassport {
    pub id: PassportId,
    pub key: Ed25519Keypair,
    /// Validators only.
    pub consensus_key: Option<Ed25519Keypair>,
    pub bls_key: Option<BlsSecretKey>,
}

/// A genesis and the keys of every passport in it. Passports are ordered validators first,
/// then arbiters, then members.
#[derive(Clone, Debug)]
pub struct DevCell {
    /// The seed every key was derived from.
    pub seed: u64,
    pub genesis: Genesis,
    pub passports: Vec<DevPassport>,
    pub config: DevCellConfig,
}

/// `config`'s chamber rules with its guardians' keys derived from `seed`.
fn with_guardians(seed: u64, config: &DevCellConfig) -> GovernanceRules {
    let keys = (0..config.guardians)
        .map(|index| guardian_key(seed, index).public_key())
        .collect();
    GovernanceRules {
        guardians: Guardians {
            keys,
            threshold: config.guardian_threshold,
        },
        ..config.governance.clone()
    }
}

/// The key of guardian `index`, shared by every cell made from `seed`.
pub fn guardian_key(seed: u64, index: usize) -> Ed25519Keypair {
    Ed25519Keypair::from_seed(derive_seed(seed, "guardian", index as u64))
}

/// 32 bytes of key material for `(seed, purpose, index)`.
pub fn derive_seed(seed: u64, purpose: &str, index: u64) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"charter/devnet/v1");
    hasher.update(&seed.to_le_bytes());
    hasher.update(purpose.as_bytes());
    hasher.update(&index.to_le_bytes());
    *hasher.finalize().as_bytes()
}

impl DevCell {
    /// The beacon reveal of the block at `height` as validator `height mod validators`, a
    /// genesis validator, would propose it.
    pub fn reveal(&self, height: Height) -> BeaconReveal {
        self.reveal_as((height % self.config.validators as u64) as usize, height)
    }

    /// The beacon reveal of the block at `height` as genesis validator `index` proposes it.
    pub fn reveal_as(&self, index: usize, height: Height) -> BeaconReveal {
        let proposer = self.validator(index);
        let key = (proposer.bls_key.as_ref()).expect("every validator has a BLS key");
        let message = reveal_message(self.genesis.federation, self.config.cell, height);
        BeaconReveal {
            proposer: proposer.id,
            signature: key.sign(&message),
        }
    }

    /// Cells made from one seed share the federation; their keys differ by cell (cell 0's are
    /// those of a lone dev cell, so existing dev chains and documents keep their keys).
    pub fn new(seed: u64, config: DevCellConfig) -> Self {
        let federation = FederationId(derive_seed(seed, "federation", 0));
        let purpose = |name: &str| match config.cell.0 {
            0 => name.to_string(),
            cell => format!("{name}/cell-{cell}"),
        };
        let count = config.validators + config.arbiters + config.members;
        let mut passports = Vec::with_capacity(count);
        let mut genesis_passports = Vec::with_capacity(count);
        let mut validators = Vec::new();
        for index in 0..count {
            let id = PassportId::genesis(config.cell, index as u64);
            let key =
                Ed25519Keypair::from_seed(derive_seed(seed, &purpose("controller"), index as u64));
            let is_validator = index < config.validators;
            let minor = index >= config.validators.saturating_sub(config.minor_validators);
            let (tier, bonded) = if is_validator && minor {
                (MAX_TIER, config.params.min_validator_bond)
            } else if is_validator {
                (MAX_TIER, config.validator_bond)
            } else if index < config.validators + config.arbiters {
                (3, config.params.min_sponsor_bond)
            } else {
                (
                    config.params.min_sponsor_tier,
                    config.params.min_sponsor_bond,
                )
            };
            genesis_passports.push(GenesisPassport {
                controller_keys: vec![key.public_key()],
                tier,
                balance: config.balance,
                bonded,
            });
            let (consensus_key, bls_key) = if is_validator {
                let consensus = Ed25519Keypair::from_seed(derive_seed(
                    seed,
                    &purpose("consensus"),
                    index as u64,
                ));
                let bls =
                    BlsSecretKey::key_gen(&derive_seed(seed, &purpose("bls"), index as u64), b"")
                        .expect("32 bytes of key material is enough");
                validators.push(GenesisValidator {
                    passport: id,
                    consensus_key: consensus.public_key(),
                    bls_key: bls.public_key(),
                    bls_proof_of_possession: bls.prove_possession(),
                });
                (Some(consensus), Some(bls))
            } else {
                (None, None)
            };
            passports.push(DevPassport {
                id,
                key,
                consensus_key,
                bls_key,
            });
        }
        let arbiters = ArbiterPanel {
            members: passports[config.validators..config.validators + config.arbiters]
                .iter()
                .map(|p| p.id)
                .collect(),
            threshold: config.arbiter_threshold,
        };
        let governance = with_guardians(seed, &config);
        let genesis = Genesis {
            federation,
            cell: config.cell,
            params: config.params.clone(),
            passports: genesis_passports,
            validators,
            arbiters,
            governance,
        };
        Self {
            seed,
            genesis,
            passports,
            config,
        }
    }

    pub fn validator(&self, index: usize) -> &DevPassport {
        &self.passports[index]
    }

    pub fn arbiter(&self, index: usize) -> &DevPassport {
        &self.passports[self.config.validators + index]
    }

    pub fn member(&self, index: usize) -> &DevPassport {
        &self.passports[self.config.validators + self.config.arbiters + index]
    }

    pub fn ruling_terms(&self, case: CaseId, ruling: Ruling) -> RulingTerms {
        RulingTerms {
            federation: self.genesis.federation,
            cell: self.genesis.cell,
            case,
            ruling,
        }
    }

    /// Approvals of a ruling by the given arbiters (indices into the panel).
    pub fn approve_ruling(
        &self,
        case: CaseId,
        ruling: Ruling,
        arbiters: &[usize],
    ) -> Vec<ArbiterApproval> {
        let terms = self.ruling_terms(case, ruling);
        arbiters
            .iter()
            .map(|index| {
                let arbiter = self.arbiter(*index);
                ArbiterApproval::sign(arbiter.id, &arbiter.key, &terms)
            })
            .collect()
    }

    /// Approvals of the mode change numbered `sequence` by the given validators.
    pub fn approve_mode(
        &self,
        sequence: u64,
        mode: CellMode,
        expires_at: Option<Height>,
        validators: &[usize],
    ) -> Vec<ValidatorApproval> {
        let terms = ModeChangeTerms {
            federation: self.genesis.federation,
            cell: self.genesis.cell,
            sequence,
            mode,
            expires_at,
        };
        self.approve(&terms.signing_bytes(), validators)
    }

    /// Approvals of a ruling on `remote`'s equivocation at `epoch` by the given validators.
    pub fn approve_bridge_ruling(
        &self,
        remote: CellId,
        epoch: u64,
        keep: CheckpointId,
        validators: &[usize],
    ) -> Vec<ValidatorApproval> {
        let terms = BridgeRulingTerms {
            federation: self.genesis.federation,
            cell: self.genesis.cell,
            remote,
            epoch,
            keep,
        };
        self.approve(&terms.signing_bytes(), validators)
    }

    /// A veto of `process` for `reason`, signed by the given guardians' keys.
    pub fn veto(&self, process: ProcessId, reason: &str, guardians: &[usize]) -> Action {
        let terms = VetoTerms {
            federation: self.genesis.federation,
            cell: self.genesis.cell,
            process,
            reason: reason.to_owned(),
        };
        let message = terms.signing_bytes();
        let approvals = guardians
            .iter()
            .map(|index| {
                let key = guardian_key(self.seed, *index);
                GuardianApproval {
                    key: key.public_key(),
                    signature: key.sign(&message),
                }
            })
            .collect();
        Action::Veto {
            process,
            reason: reason.to_owned(),
            approvals,
        }
    }

    /// `passport`'s registration of the validator keys `consensus` and `bls`.
    pub fn registration(
        &self,
        passport: PassportId,
        consensus: &Ed25519Keypair,
        bls: &BlsSecretKey,
    ) -> Action {
        let terms = RegistrationTerms {
            federation: self.genesis.federation,
            cell: self.genesis.cell,
            passport,
            consensus_key: consensus.public_key(),
            bls_key: bls.public_key(),
        };
        Action::RegisterValidator(Box::new(ValidatorRegistration::sign(
            &terms, consensus, bls,
        )))
    }

    /// `message` signed by the consensus keys of the given validators.
    fn approve(&self, message: &[u8], validators: &[usize]) -> Vec<ValidatorApproval> {
        validators
            .iter()
            .filter_map(|index| {
                let validator = self.validator(*index);
                let key = validator.consensus_key.as_ref()?;
                Some(ValidatorApproval::sign(validator.id, key, message))
            })
            .collect()
    }

    /// A transaction from `sender`, signed with its controller key, paying the minimum fee.
    pub fn transaction(
        &self,
        sender: &DevPassport,
        nonce: Nonce,
        action: Action,
    ) -> SignedTransaction {
        TransactionBody {
            federation: self.genesis.federation,
            cell: self.genesis.cell,
            sender: sender.id,
            nonce,
            fee: self.config.params.min_fee,
            action,
        }
        .sign(&sender.key)
    }
}
