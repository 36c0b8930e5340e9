//! `charter gov`: governance processes from the command line — propose, sponsor, vote,
//! delegate, approve and submit guardian vetoes, and read processes, ballots and the rules —
//! and juries (`charter gov jury`): join or leave the pool, send a dispute or a slash case to
//! a jury, rule.
//! Transactions are signed and followed as `charter tx send` does.

use crate::tx::{cell_facts, follow, json_argument, sign_action, submit};
use anyhow::{Context, Result};
use charter_client::ApiClient;
use charter_ledger::governance::{
    Choice, GuardianApproval, JuryCaseId, ProcessId, Proposal, Verdict, VetoTerms,
};
use charter_ledger::{Action, CaseId, EscrowId, PassportId};
use charter_node::keys::KeyFile;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Args)]
pub struct GovArgs {
    /// The node's API, e.g. http://127.0.0.1:8000.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8000")]
    api: String,
    #[command(subcommand)]
    command: GovCommand,
}

#[derive(Args)]
struct Sender {
    /// The sender's key file (its passport and controller key).
    #[arg(long)]
    key: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum ChoiceArg {
    Yes,
    No,
    Abstain,
}

#[derive(Subcommand)]
enum GovCommand {
    /// Open a process. The proposal is JSON in the API's shape, e.g.
    /// {"parameter_change":{"parameter":"min_fee","value":3}} or
    /// {"resolution":{"text":"..."}}; or @FILE.
    Propose {
        #[command(flatten)]
        sender: Sender,
        #[arg(long)]
        proposal: String,
    },
    /// Join a process's sponsors.
    Sponsor {
        #[command(flatten)]
        sender: Sender,
        #[arg(long)]
        process: u64,
    },
    /// Vote on a process (a later vote replaces an earlier one until voting closes).
    Vote {
        #[command(flatten)]
        sender: Sender,
        #[arg(long)]
        process: u64,
        #[arg(long, value_enum)]
        choice: ChoiceArg,
    },
    /// Delegate the sender's vote to another passport (replacing any delegation).
    Delegate {
        #[command(flatten)]
        sender: Sender,
        /// The delegate's passport id (hex).
        #[arg(long)]
        to: String,
    },
    /// Withdraw the sender's delegation.
    Undelegate {
        #[command(flatten)]
        sender: Sender,
    },
    /// As a guardian, approve a veto; prints the approval to pass to `gov veto`.
    ApproveVeto {
        /// The guardian's key file (its controller key is the guardian key).
        #[arg(long)]
        guardian_key: PathBuf,
        #[arg(long)]
        process: u64,
        #[arg(long)]
        reason: String,
    },
    /// Submit a veto carrying guardians' approvals (each as `gov approve-veto` printed it).
    Veto {
        #[command(flatten)]
        sender: Sender,
        #[arg(long)]
        process: u64,
        #[arg(long)]
        reason: String,
        /// One approval as JSON (or @FILE); repeat for each guardian.
        #[arg(long = "approval", required = true)]
        approvals: Vec<String>,
    },
    /// Print a process: its proposal, rules, schedule, status, tallies and history. (`charter
    /// query process <id> --proof` reads it with a state proof and verifies it.)
    Show { process: u64 },
    /// List processes, newest first.
    List {
        #[arg(long)]
        before: Option<u64>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Print the chamber rules in force.
    Rules,
    /// Juries: the pool, escrow disputes sent to juries, and jurors' rulings.
    #[command(subcommand)]
    Jury(JuryCommand),
}

#[derive(Clone, Copy, ValueEnum)]
enum VerdictArg {
    /// The claim holds: the escrow goes to its payee; the offender is slashed.
    ForClaim,
    /// The claim fails: the escrow returns to its payer; the offender keeps its stake.
    AgainstClaim,
}

#[derive(Subcommand)]
enum JuryCommand {
    /// Join the jury pool, locking the rules' juror bond.
    Join {
        #[command(flatten)]
        sender: Sender,
    },
    /// Leave the jury pool; the bond returns after the rules' notice.
    Leave {
        #[command(flatten)]
        sender: Sender,
    },
    /// As the payer or payee of a disputed escrow, send it to a jury.
    Request {
        #[command(flatten)]
        sender: Sender,
        /// The escrow id (hex).
        #[arg(long)]
        escrow: String,
    },
    /// As a member of the arbiter panel, send a slash of up to `amount` of the offender's
    /// stake to a jury, under a fresh case number.
    Slash {
        #[command(flatten)]
        sender: Sender,
        /// The offender's passport id (hex).
        #[arg(long)]
        offender: String,
        #[arg(long)]
        amount: u64,
        /// The arbiters' case number (32 bytes, hex), not used by any ruling before.
        #[arg(long)]
        case: String,
    },
    /// As a drawn juror, rule on a case.
    Rule {
        #[command(flatten)]
        sender: Sender,
        #[arg(long)]
        case: u64,
        #[arg(long, value_enum)]
        verdict: VerdictArg,
    },
    /// Print a case: its pool, seed, jurors, rulings, outcome and history. (`charter query
    /// case <id> --proof` reads it with a state proof and verifies it.)
    Show { case: u64 },
    /// List cases, newest first.
    List {
        #[arg(long)]
        before: Option<u64>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Print the passports in the jury pool.
    Pool,
}

fn send(api: &ApiClient, sender: &Sender, action: Action) -> Result<()> {
    let transaction = sign_action(api, &sender.key, action, None, None)?;
    let id = submit(api, &transaction.encode())?;
    follow(api, &id, 60)
}

fn print(api: &ApiClient, path: &str) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(&api.get(path)?)?);
    Ok(())
}

pub fn run(args: GovArgs) -> Result<()> {
    let api = ApiClient::new(&args.api)?;
    match args.command {
        GovCommand::Propose { sender, proposal } => {
            let proposal: Proposal = json_argument(&proposal, "proposal")?;
            send(&api, &sender, Action::Propose { proposal })
        }
        GovCommand::Sponsor { sender, process } => {
            let process = ProcessId(process);
            send(&api, &sender, Action::Sponsor { process })
        }
        GovCommand::Vote {
            sender,
            process,
            choice,
        } => {
            let choice = match choice {
                ChoiceArg::Yes => Choice::Yes,
                ChoiceArg::No => Choice::No,
                ChoiceArg::Abstain => Choice::Abstain,
            };
            let process = ProcessId(process);
            send(&api, &sender, Action::Vote { process, choice })
        }
        GovCommand::Delegate { sender, to } => {
            let to = PassportId::from_hex(&to).context("the delegate is not 32 hex bytes")?;
            send(&api, &sender, Action::Delegate { to })
        }
        GovCommand::Undelegate { sender } => send(&api, &sender, Action::Undelegate),
        GovCommand::ApproveVeto {
            guardian_key,
            process,
            reason,
        } => {
            let key = KeyFile::load(&guardian_key)?.controller()?;
            let facts = cell_facts(&api)?;
            let terms = VetoTerms {
                federation: facts.federation,
                cell: facts.cell,
                process: ProcessId(process),
                reason,
            };
            let approval = GuardianApproval {
                key: key.public_key(),
                signature: key.sign(&terms.signing_bytes()),
            };
            println!("{}", serde_json::to_string(&approval)?);
            Ok(())
        }
        GovCommand::Veto {
            sender,
            process,
            reason,
            approvals,
        } => {
            let approvals = (approvals.iter())
                .map(|text| json_argument::<GuardianApproval>(text, "approval"))
                .collect::<Result<Vec<_>>>()?;
            let process = ProcessId(process);
            let action = Action::Veto {
                process,
                reason,
                approvals,
            };
            send(&api, &sender, action)
        }
        GovCommand::Show { process } => print(&api, &format!("/v1/governance/processes/{process}")),
        GovCommand::List { before, limit } => {
            let before = before.map_or(String::new(), |before| format!("&before={before}"));
            print(
                &api,
                &format!("/v1/governance/processes?limit={limit}{before}"),
            )
        }
        GovCommand::Rules => print(&api, "/v1/governance/rules"),
        GovCommand::Jury(command) => run_jury(&api, command),
    }
}

fn run_jury(api: &ApiClient, command: JuryCommand) -> Result<()> {
    match command {
        JuryCommand::Join { sender } => send(api, &sender, Action::JoinJuryPool),
        JuryCommand::Leave { sender } => send(api, &sender, Action::LeaveJuryPool),
        JuryCommand::Request { sender, escrow } => {
            let escrow = EscrowId::from_hex(&escrow).context("the escrow is not 32 hex bytes")?;
            send(api, &sender, Action::RequestJury { escrow })
        }
        JuryCommand::Slash {
            sender,
            offender,
            amount,
            case,
        } => {
            let action = Action::RequestSlashJury {
                offender: PassportId::from_hex(&offender)
                    .context("the offender is not 32 hex bytes")?,
                amount,
                case: CaseId::from_hex(&case).context("the case is not 32 hex bytes")?,
            };
            send(api, &sender, action)
        }
        JuryCommand::Rule {
            sender,
            case,
            verdict,
        } => {
            let verdict = match verdict {
                VerdictArg::ForClaim => Verdict::ForClaim,
                VerdictArg::AgainstClaim => Verdict::AgainstClaim,
            };
            let case = JuryCaseId(case);
            send(api, &sender, Action::RuleOnCase { case, verdict })
        }
        JuryCommand::Show { case } => print(api, &format!("/v1/governance/cases/{case}")),
        JuryCommand::List { before, limit } => {
            let before = before.map_or(String::new(), |before| format!("&before={before}"));
            print(api, &format!("/v1/governance/cases?limit={limit}{before}"))
        }
        JuryCommand::Pool => print(api, "/v1/governance/jury-pool"),
    }
}
