"""charter_client: a Python SDK for Charter, written from its documents (docs/wire-format.md,
docs/actions.md, docs/governance.md, docs/proofs.md, docs/checkpoints.md, docs/errors.md,
node/openapi.json)."""

from __future__ import annotations

from .actions import (
    ALL_ACTIONS, ALL_PROPOSALS, Action, ArbiterApproval, ArbiterRuling, Bond, BridgeRuling, CellModeChange, Choice,
    ConsentRuling, ConsentSubject, CouncilElection, Delegate, DoubleVote, EscrowCreate, EscrowDispute, EscrowRefund,
    EscrowRelease, EscrowResolve, Exit, ForkPassport, GuardianApproval, IssuePassport, LiftBridgeLockdown, Parameter,
    ParameterChange, ProcessVote, Proposal, Propose, RegisterValidator, Resolution, RotateKeys, RulesChange, Sanction,
    SetCellMode, SignedVote, Slash, SlashRuling, Sponsor, Transfer, Unbond, Undelegate, ValidatorApproval, Veto,
    Withdraw, action_from_json, proposal_from_json, JoinJuryPool, LeaveJuryPool, RequestJury, RequestSlashJury,
    RuleOnCase,
)
from .checkpoints import (
    Checkpoint, CheckpointCertificate, FederationValidator, FederationVerifier, certificate_from_api,
    validator_set_from_api, validator_set_hash,
)
from .client import BatchResult, CharterClient
from .errors import ApiError, CharterError, EncodingError, ProofError, TransactionFailed, WaitTimeout
from .governance import (
    Chamber, ChamberVote, GovernanceRules, Guardians, JuryRules, KindRules, MembershipSeats, MembershipTiers,
    SponsorRule, Verdict, Weighting, default_governance_rules, dev_governance_rules,
)
from .ids import escrow_id, genesis_passport_id, passport_id
from .juries import (
    beacon_mix, case_pool, check_draw, check_outcome, draw_jury, genesis_beacon, reveal_message, slash_case_parties,
    sortition_score, verdict_of, verify_reveal,
)
from .keys import KeyFile, SigningKey, load_guardian_keys, load_key_dir, verify_strict
from .proofs import (
    BlockCertificate, BlockHeader, InclusionProof, StateProof, ValidatorSet, verify_block_json, verify_certificate,
    verify_header_reveal, verify_inclusion, verify_read, verify_state_proof,
)
from .state import (
    Ballot, Beacon, CaseEscrow, CaseOutcome, CaseSlash, CaseStatus, CaseSubject, ChamberTally, Delegation, Electorate,
    Juror, JuryCase, JuryCaseIds, PassportIds, Process, ProcessStatus, Schedule, SlashRulingProcess, StateKey,
)
from .statements import (
    BridgeRulingTerms, CellMode, ModeChangeTerms, RegistrationTerms, RulingRotateKeys, RulingSanction, RulingSlash,
    RulingTerms, SanctionKind, VetoTerms, Vote, VoteType,
)
from .transaction import SignedTransaction, TransactionBody
from .verifier import Genesis, Verifier

__all__ = [
    "ALL_ACTIONS", "Action", "ArbiterApproval", "ArbiterRuling", "Bond", "ConsentRuling", "ConsentSubject",
    "DoubleVote", "EscrowCreate", "EscrowDispute", "EscrowRefund", "EscrowRelease", "EscrowResolve", "Exit",
    "ForkPassport", "IssuePassport", "LiftBridgeLockdown", "RegisterValidator", "RotateKeys", "Sanction",
    "SetCellMode", "SignedVote", "Slash", "Transfer", "Unbond", "ValidatorApproval", "Withdraw", "action_from_json",
    "Checkpoint", "CheckpointCertificate", "FederationValidator", "FederationVerifier", "certificate_from_api",
    "validator_set_from_api", "validator_set_hash", "BatchResult", "CharterClient", "ApiError", "CharterError", "EncodingError", "ProofError",
    "TransactionFailed", "WaitTimeout", "escrow_id", "genesis_passport_id", "passport_id", "KeyFile", "SigningKey",
    "load_key_dir", "verify_strict", "BlockCertificate", "BlockHeader", "InclusionProof", "StateProof",
    "ValidatorSet", "verify_block_json", "verify_certificate", "verify_inclusion", "verify_read",
    "verify_state_proof", "StateKey", "BridgeRulingTerms", "CellMode", "ModeChangeTerms", "RegistrationTerms",
    "RulingRotateKeys", "RulingSanction", "RulingSlash", "RulingTerms", "SanctionKind", "Vote", "VoteType",
    "SignedTransaction", "TransactionBody", "Genesis", "Verifier",
    # governance
    "ALL_PROPOSALS", "BridgeRuling", "CellModeChange", "Choice", "CouncilElection", "Delegate", "GuardianApproval",
    "Parameter", "ParameterChange", "ProcessVote", "Proposal", "Propose", "Resolution", "RulesChange",
    "SlashRuling", "Sponsor", "Undelegate", "Veto", "proposal_from_json", "Chamber", "ChamberVote",
    "GovernanceRules", "Guardians", "KindRules", "MembershipSeats", "MembershipTiers", "SponsorRule", "Weighting",
    "default_governance_rules", "dev_governance_rules", "load_guardian_keys", "Ballot", "ChamberTally",
    "Delegation", "Electorate", "PassportIds", "Process", "ProcessStatus", "Schedule", "VetoTerms",
    # juries
    "JoinJuryPool", "LeaveJuryPool", "RequestJury", "RuleOnCase", "RequestSlashJury", "JuryRules", "Verdict",
    "Beacon", "CaseOutcome", "CaseStatus", "CaseSubject", "CaseEscrow", "CaseSlash", "Juror", "JuryCase",
    "JuryCaseIds", "beacon_mix", "draw_jury", "genesis_beacon", "reveal_message", "sortition_score", "verify_reveal",
    "verify_header_reveal", "check_draw", "check_outcome", "verdict_of", "slash_case_parties", "case_pool",
    "SlashRulingProcess",
]
