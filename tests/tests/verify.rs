//! `charter verify`, offline from files: a federation of three dev cells, a checkpoint of cell 0
//! BLS-signed by the real validator keys of cells 0 and 1 (k = 2), and a passport read with its
//! proof at the checkpoint's height. The certificate and the read verify; a flipped bitmap bit,
//! a foreign signature and a cell below 2/3 are each refused with the reason.

use charter_consensus::block::BlockHash;
use charter_e2e::charter;
use charter_federation::checkpoint::{
    CellSigners, CellValidators, Checkpoint, CheckpointCertificate, FederationView,
};
use charter_ledger::crypto::bls::{aggregate, BlsSecretKey, BlsSignature};
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::state::StateKey;
use charter_ledger::storage::MemoryStorage;
use charter_ledger::{Action, CellId, Genesis, Ledger, PassportId, TransactionBody};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn run(args: &[&str]) -> std::process::Output {
    charter(args)
}

fn key_file(dir: &Path, cell: u32, index: usize) -> Value {
    let path = dir.join(format!("cell-{cell}/keys/passport-{index}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bls_key(dir: &Path, cell: u32, index: usize) -> BlsSecretKey {
    let keys = key_file(dir, cell, index);
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(
        keys["validator"]["bls_secret_key"].as_str().unwrap(),
        &mut bytes,
    )
    .unwrap();
    BlsSecretKey::from_bytes(&bytes).unwrap()
}

struct Setup {
    dir: tempfile::TempDir,
    federation: PathBuf,
    view: FederationView,
    checkpoint: Checkpoint,
    /// The new set the checkpoint hands over, if it hands over one.
    next_set: Option<CellValidators>,
    read: PathBuf,
    key: String,
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Signatures on the checkpoint by the validators at `positions` of `cell`'s set (which is
    /// in passport-id order; key files are in genesis order).
    fn signatures(&self, cell: u32, positions: &[usize]) -> Vec<BlsSignature> {
        self.signatures_on(&self.checkpoint.signing_bytes(), cell, positions)
    }

    fn signatures_on(&self, message: &[u8], cell: u32, positions: &[usize]) -> Vec<BlsSignature> {
        let set = &self.view.cells[&CellId(cell)];
        positions
            .iter()
            .map(|position| {
                let passport = set.0[*position].passport;
                let index = (0..4)
                    .find(|index| PassportId::genesis(CellId(cell), *index as u64) == passport)
                    .expect("a validator of the cell");
                bls_key(self.dir.path(), cell, index).sign(message)
            })
            .collect()
    }

    fn certificate(&self, signers: &[(u32, &[usize])]) -> CheckpointCertificate {
        let mut signatures = Vec::new();
        let mut bitmaps = Vec::new();
        for (cell, indices) in signers {
            signatures.extend(self.signatures(*cell, indices));
            bitmaps.push(CellSigners::from_indices(
                CellId(*cell),
                &self.view.cells[&CellId(*cell)],
                indices.iter().copied(),
            ));
        }
        CheckpointCertificate {
            checkpoint: self.checkpoint.clone(),
            signers: bitmaps,
            signature: aggregate(&signatures).unwrap(),
            next_set: self.next_set.clone(),
        }
    }

    /// Runs `charter verify` on `certificate` (and the read); its output, or its refusal.
    fn verify(&self, certificate: &CheckpointCertificate, read: &Path) -> Result<String, String> {
        let path = self.path("certificate.json");
        std::fs::write(&path, serde_json::to_string(certificate).unwrap()).unwrap();
        let out = run(&[
            "verify",
            "--federation",
            self.federation.to_str().unwrap(),
            "--certificate",
            path.to_str().unwrap(),
            "--read",
            read.to_str().unwrap(),
            "--key",
            &self.key,
        ]);
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut geneses = Vec::new();
    for cell in 0..3u32 {
        let out = dir.path().join(format!("cell-{cell}"));
        let done = run(&[
            "dev-genesis",
            "--seed",
            "5",
            "--cell",
            &cell.to_string(),
            "--members",
            "2",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        geneses.push(out.join("genesis.json"));
    }
    let federation = dir.path().join("federation.json");
    let mut args = vec![
        "federation-genesis",
        "--k",
        "2",
        "--out",
        federation.to_str().unwrap(),
    ];
    for genesis in &geneses {
        args.extend(["--cell-genesis", genesis.to_str().unwrap()]);
    }
    let done = run(&args);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let view: FederationView =
        serde_json::from_str(&std::fs::read_to_string(&federation).unwrap()).unwrap();

    // Cell 0 commits a block: member 7 pays member 8. The checkpoint is of that height.
    let genesis: Genesis =
        serde_json::from_str(&std::fs::read_to_string(&geneses[0]).unwrap()).unwrap();
    let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
    ledger.init_genesis(&genesis).unwrap();
    let mut seed = [0u8; 32];
    hex::decode_to_slice(
        key_file(dir.path(), 0, 7)["controller_seed"]
            .as_str()
            .unwrap(),
        &mut seed,
    )
    .unwrap();
    let payee = genesis.passport_id(8);
    let transfer = TransactionBody {
        federation: genesis.federation,
        cell: genesis.cell,
        sender: genesis.passport_id(7),
        nonce: 0,
        fee: 0,
        action: Action::Transfer {
            to: payee,
            amount: 42,
        },
    }
    .sign(&Ed25519Keypair::from_seed(seed));
    let applied = ledger.apply_block(&[transfer]).unwrap();
    let (value, proof) = ledger
        .get_with_proof(&StateKey::Passport(payee), 1)
        .unwrap();
    let read = dir.path().join("read.json");
    std::fs::write(
        &read,
        json!({
            "height": 1,
            "state_root": applied.state_root,
            "encoded": value.map(hex::encode),
            "proof": hex::encode(proof.encode()),
        })
        .to_string(),
    )
    .unwrap();
    let set = view.cells[&CellId(0)].clone();
    let checkpoint = Checkpoint {
        federation: genesis.federation,
        cell: CellId(0),
        epoch: 1,
        height: 1,
        block: BlockHash([1; 32]),
        state_root: applied.state_root,
        validators: set.hash(),
        next_validators: set.hash(),
    };
    Setup {
        dir,
        federation,
        view,
        checkpoint,
        next_set: None,
        read,
        key: format!("passport:{payee}"),
    }
}

#[test]
fn a_final_certificate_and_a_state_read_against_it_verify_offline() {
    let setup = setup();
    let certificate = setup.certificate(&[(0, &[0, 1, 2, 3]), (1, &[0, 2, 3])]);
    let output = setup.verify(&certificate, &setup.read).unwrap();
    assert!(
        output.contains("final: cell-0 epoch 1 height 1"),
        "{output}"
    );
    assert!(output.contains("state proof verified"), "{output}");

    // A read whose value was altered does not verify against the certified root.
    let mut read: Value =
        serde_json::from_str(&std::fs::read_to_string(&setup.read).unwrap()).unwrap();
    let mut encoded = hex::decode(read["encoded"].as_str().unwrap()).unwrap();
    encoded[40] ^= 1;
    read["encoded"] = json!(hex::encode(encoded));
    let altered = setup.path("altered.json");
    std::fs::write(&altered, read.to_string()).unwrap();
    let refused = setup.verify(&certificate, &altered).unwrap_err();
    assert!(refused.contains("state proof does not verify"), "{refused}");
}

#[test]
fn flipped_bits_foreign_signatures_and_cells_below_two_thirds_are_refused() {
    let setup = setup();
    let good = setup.certificate(&[(0, &[0, 1, 3]), (1, &[0, 1, 2])]);
    setup.verify(&good, &setup.read).unwrap();

    let mut flipped = good.clone();
    flipped.signers[0].bitmap[0] ^= 1 << 2;
    let refused = setup.verify(&flipped, &setup.read).unwrap_err();
    assert!(refused.contains("signature does not verify"), "{refused}");

    // Validator 2 of cell 2 signs where the bitmap claims validator 2 of cell 1.
    let mut foreign = good.clone();
    let mut signatures = setup.signatures(0, &[0, 1, 3]);
    signatures.extend(setup.signatures(1, &[0, 1]));
    signatures.extend(setup.signatures(2, &[2]));
    foreign.signature = aggregate(&signatures).unwrap();
    let refused = setup.verify(&foreign, &setup.read).unwrap_err();
    assert!(refused.contains("signature does not verify"), "{refused}");

    let below = setup.certificate(&[(0, &[0, 1, 3]), (1, &[0, 1])]);
    let refused = setup.verify(&below, &setup.read).unwrap_err();
    assert!(refused.contains("not more than 2/3"), "{refused}");

    let alone = setup.certificate(&[(0, &[0, 1, 2, 3])]);
    let refused = setup.verify(&alone, &setup.read).unwrap_err();
    assert!(refused.contains("finality needs 2"), "{refused}");
}

#[test]
fn a_chain_of_certificates_verifies_in_any_order_from_genesis_or_from_a_trusted_checkpoint() {
    let setup = setup();
    // Epoch 1 of cell 0 hands over to a new set: the keys of cell 1's validators.
    let new_set = setup.view.cells[&CellId(1)].clone();
    let handover = {
        let mut checkpoint = setup.checkpoint.clone();
        checkpoint.next_validators = new_set.hash();
        Setup {
            checkpoint,
            next_set: Some(new_set.clone()),
            ..setup
        }
    };
    let first = handover.certificate(&[(0, &[0, 1, 2, 3]), (1, &[0, 1, 2, 3])]);
    // Epoch 2 is signed by the new set (as cell 0) and by cell 1.
    let mut second_checkpoint = first.checkpoint.clone();
    second_checkpoint.epoch = 2;
    second_checkpoint.height = 2;
    second_checkpoint.validators = new_set.hash();
    second_checkpoint.next_validators = new_set.hash();
    let message = second_checkpoint.signing_bytes();
    let cell_1_signatures = handover.signatures_on(&message, 1, &[0, 1, 2, 3]);
    let mut signatures = cell_1_signatures.clone();
    signatures.extend(cell_1_signatures);
    let second = CheckpointCertificate {
        checkpoint: second_checkpoint,
        signers: vec![
            CellSigners::from_indices(CellId(0), &new_set, 0..4),
            CellSigners::from_indices(CellId(1), &handover.view.cells[&CellId(1)], 0..4),
        ],
        signature: aggregate(&signatures).unwrap(),
        next_set: None,
    };
    let write = |name: &str, certificate: &CheckpointCertificate| {
        let path = handover.path(name);
        std::fs::write(&path, serde_json::to_string(certificate).unwrap()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (first_path, second_path) = (write("first.json", &first), write("second.json", &second));
    let federation = handover.federation.to_str().unwrap().to_string();
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", "--federation", federation.as_str()];
        args.extend_from_slice(extra);
        run(&args)
    };
    let alone = verify(&["--certificate", &second_path]);
    assert!(
        !alone.status.success(),
        "epoch 2 alone names a set genesis does not know"
    );
    assert!(String::from_utf8_lossy(&alone.stderr).contains("validator set other than"));
    let chain = verify(&["--certificate", &first_path, "--certificate", &second_path]);
    assert!(
        chain.status.success(),
        "{}",
        String::from_utf8_lossy(&chain.stderr)
    );
    let reversed = verify(&["--certificate", &second_path, "--certificate", &first_path]);
    assert!(
        reversed.status.success(),
        "the order certificates are given in changes nothing: {}",
        String::from_utf8_lossy(&reversed.stderr)
    );
    assert_eq!(reversed.stdout, chain.stdout);
    let trusted = verify(&["--trusted", &first_path, "--certificate", &second_path]);
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    assert!(String::from_utf8_lossy(&trusted.stdout).contains("final: cell-0 epoch 2"));
    // Epoch 2 keeps the set epoch 1 handed over, so it does not carry it: trusted alone, it
    // names a set this verifier never learned.
    let unanchored = verify(&["--trusted", &second_path, "--certificate", &second_path]);
    assert!(!unanchored.status.success());
    assert!(
        String::from_utf8_lossy(&unanchored.stderr).contains("one this verifier holds already"),
        "{}",
        String::from_utf8_lossy(&unanchored.stderr)
    );
}

#[test]
fn two_different_final_certificates_for_one_epoch_are_refused_as_equivocation() {
    let setup = setup();
    let honest = setup.certificate(&[(0, &[0, 1, 2, 3]), (1, &[0, 1, 2, 3])]);
    let twin_setup = {
        let mut checkpoint = setup.checkpoint.clone();
        checkpoint.state_root = charter_ledger::StateRoot([0xee; 32]);
        Setup {
            checkpoint,
            ..setup
        }
    };
    let twin = twin_setup.certificate(&[(0, &[0, 1, 2, 3]), (2, &[0, 1, 2, 3])]);
    let not_final = twin_setup.certificate(&[(0, &[0, 1]), (2, &[0, 1, 2, 3])]);
    let write = |name: &str, certificate: &CheckpointCertificate| {
        let path = twin_setup.path(name);
        std::fs::write(&path, serde_json::to_string(certificate).unwrap()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (honest, twin, not_final) = (
        write("honest.json", &honest),
        write("twin.json", &twin),
        write("not-final.json", &not_final),
    );
    let federation = twin_setup.federation.to_str().unwrap().to_string();
    let verify = |first: &str, second: &str| {
        run(&[
            "verify",
            "--federation",
            &federation,
            "--certificate",
            first,
            "--certificate",
            second,
        ])
    };
    let refused = verify(&honest, &twin);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("equivocation"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // A differing certificate that is not final proves nothing about the cell.
    let refused = verify(&honest, &not_final);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("is not final") && !stderr.contains("equivocation"),
        "{stderr}"
    );
}
