//! A decided block as `GET /v1/blocks/{height}` answers it (`docs/proofs.md`, "Blocks").
//!
//! It is written straight from the stored block and its outcomes, without building a JSON
//! tree first: a full block carries thousands of transactions, and building a tree of each
//! one's fields costs more than the block took to execute. Keys are declared in the order a
//! JSON tree would sort them, so the answer reads the same either way.

use charter_consensus::block_store::{DecidedBlock, TransactionOutcome};
use charter_ledger::crypto::ed25519::Ed25519Signature;
use charter_ledger::{CellId, FederationId, PassportId, SignedTransaction, StateRoot, TxId};
use serde::Serialize;
use serde_json::Value;

/// A decided block with its transactions' outcomes, ready to answer with.
pub(crate) struct BlockView {
    decided: DecidedBlock,
    outcomes: Vec<TransactionOutcome>,
}

#[derive(Serialize)]
struct BlockJson<'a> {
    certificate: CertificateJson<'a>,
    hash: String,
    header: HeaderJson<'a>,
    height: u64,
    transactions: Vec<EntryJson<'a>>,
}

#[derive(Serialize)]
struct CertificateJson<'a> {
    round: u32,
    signatures: Vec<CommitJson<'a>>,
}

#[derive(Serialize)]
struct CommitJson<'a> {
    signature: &'a Ed25519Signature,
    validator: &'a PassportId,
}

#[derive(Serialize)]
struct HeaderJson<'a> {
    cell: &'a CellId,
    federation: &'a FederationId,
    parent: String,
    proposer: &'a PassportId,
    reveal: String,
    state_root: &'a StateRoot,
    transactions_root: String,
}

#[derive(Serialize)]
struct EntryJson<'a> {
    id: &'a TxId,
    reason: Option<ReasonJson<'a>>,
    status: &'static str,
    transaction: &'a SignedTransaction,
}

#[derive(Serialize)]
struct ReasonJson<'a> {
    code: &'a str,
    message: &'a str,
}

impl BlockView {
    /// `outcomes` are the block's transactions' outcomes, in the block's order.
    pub(crate) fn new(decided: DecidedBlock, outcomes: Vec<TransactionOutcome>) -> Self {
        Self { decided, outcomes }
    }

    /// The block as a JSON tree, for the explorer's pages.
    pub(crate) fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a block's JSON has string keys only")
    }

    fn json(&self) -> BlockJson<'_> {
        let block = &self.decided.block;
        let header = &block.header;
        let certificate = &self.decided.certificate;
        BlockJson {
            certificate: CertificateJson {
                round: certificate.round,
                signatures: (certificate.signatures.iter())
                    .map(|commit| CommitJson {
                        signature: &commit.signature,
                        validator: &commit.validator,
                    })
                    .collect(),
            },
            hash: block.hash().to_string(),
            header: HeaderJson {
                cell: &header.cell,
                federation: &header.federation,
                parent: header.parent.to_string(),
                proposer: &header.proposer,
                reveal: hex::encode(header.reveal.0),
                state_root: &header.state_root,
                transactions_root: hex::encode(header.transactions_root),
            },
            height: header.height.0,
            transactions: (block.transactions.iter().zip(&self.outcomes))
                .map(|(transaction, outcome)| entry(transaction, outcome))
                .collect(),
        }
    }
}

fn entry<'a>(transaction: &'a SignedTransaction, outcome: &'a TransactionOutcome) -> EntryJson<'a> {
    let rejection = outcome.rejection.as_ref();
    EntryJson {
        id: &outcome.id,
        reason: rejection.map(|rejection| ReasonJson {
            code: &rejection.code,
            message: &rejection.message,
        }),
        status: if rejection.is_none() {
            "committed"
        } else {
            "rejected"
        },
        transaction,
    }
}

impl Serialize for BlockView {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use charter_consensus::block::{Block, BlockHeader, BlockHeight};
    use charter_consensus::block_store::Rejection;
    use charter_consensus::certificate::{BlockCertificate, CommitSignature};
    use charter_ledger::crypto::bls::BlsSignature;
    use charter_ledger::crypto::ed25519::Ed25519Keypair;
    use charter_ledger::{Action, BlockHash, TransactionBody};
    use serde_json::json;

    fn transfer(nonce: u64) -> SignedTransaction {
        let key = Ed25519Keypair::from_seed([7; 32]);
        TransactionBody {
            federation: FederationId([1; 32]),
            cell: CellId(3),
            sender: PassportId([2; 32]),
            nonce,
            fee: 1,
            action: Action::Transfer {
                to: PassportId([4; 32]),
                amount: 10,
            },
        }
        .sign(&key)
    }

    /// A block of a committed and a rejected transfer, and what the API answers for it.
    fn block_and_answer() -> (BlockView, Value) {
        let transactions = vec![transfer(1), transfer(2)];
        let block = Block {
            header: BlockHeader {
                federation: FederationId([1; 32]),
                cell: CellId(3),
                height: BlockHeight(12),
                parent: BlockHash([5; 32]),
                proposer: PassportId([6; 32]),
                reveal: BlsSignature([8; 96]),
                transactions_root: Block::transactions_root(&transactions),
                state_root: StateRoot([9; 32]),
            },
            transactions,
        };
        let commit = CommitSignature {
            validator: PassportId([6; 32]),
            signature: Ed25519Signature([10; 64]),
        };
        let certificate = BlockCertificate {
            height: BlockHeight(12),
            round: 2,
            block: block.hash(),
            signatures: vec![commit],
        };
        let outcomes = vec![
            TransactionOutcome {
                id: block.transactions[0].id(),
                rejection: None,
            },
            TransactionOutcome {
                id: block.transactions[1].id(),
                rejection: Some(Rejection {
                    code: "insufficient_funds".into(),
                    message: "not enough".into(),
                }),
            },
        ];
        let entry = |index: usize, status: &str, reason: Value| {
            json!({
                "id": outcomes[index].id,
                "status": status,
                "reason": reason,
                "transaction": block.transactions[index],
            })
        };
        let answer = json!({
            "height": 12,
            "hash": block.hash().to_string(),
            "header": {
                "federation": hex::encode([1; 32]),
                "cell": 3,
                "parent": hex::encode([5; 32]),
                "proposer": hex::encode([6; 32]),
                "reveal": hex::encode([8; 96]),
                "transactions_root": hex::encode(block.header.transactions_root),
                "state_root": hex::encode([9; 32]),
            },
            "certificate": {
                "round": 2,
                "signatures": [{ "validator": hex::encode([6; 32]), "signature": hex::encode([10; 64]) }],
            },
            "transactions": [
                entry(0, "committed", Value::Null),
                entry(1, "rejected", json!({ "code": "insufficient_funds", "message": "not enough" })),
            ],
        });
        let decided = DecidedBlock { block, certificate };
        (BlockView::new(decided, outcomes), answer)
    }

    #[test]
    fn a_block_is_written_with_every_documented_field() {
        let (view, answer) = block_and_answer();
        let written: Value = serde_json::from_slice(&serde_json::to_vec(&view).unwrap()).unwrap();
        assert_eq!(written, answer);
    }

    #[test]
    fn members_come_in_the_order_a_json_tree_sorts_them() {
        let (view, answer) = block_and_answer();
        let written = serde_json::to_string(&view).unwrap();
        let tree_order = serde_json::to_string(&answer).unwrap();
        // Only the members inside `transaction` (written by its own type) may come in another
        // order, so both texts are compared with each `transaction` object cut out.
        let without_transactions = |json: &str| {
            let mut kept = String::new();
            let mut rest = json;
            while let Some(start) = rest.find("\"transaction\":{") {
                kept.push_str(&rest[..start]);
                let object = &rest[start + "\"transaction\":".len()..];
                let mut stream = serde_json::Deserializer::from_str(object).into_iter::<Value>();
                stream.next().unwrap().unwrap();
                rest = &object[stream.byte_offset()..];
            }
            kept + rest
        };
        assert_eq!(
            without_transactions(&written),
            without_transactions(&tree_order)
        );
    }
}
