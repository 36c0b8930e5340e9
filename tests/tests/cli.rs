//! The `charter` binary, run as a process on real disk.

use charter_e2e::charter;
use charter_ledger::storage::MemoryStorage;
use charter_ledger::{Genesis, Ledger};
use std::os::unix::fs::PermissionsExt;

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "charter failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn simulate_commits_conserves_and_continues_its_chain_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let args = [
        "simulate",
        "--data-dir",
        data,
        "--blocks",
        "30",
        "--block-size",
        "40",
        "--report-every",
        "10",
    ];
    let first = stdout(&charter(&args));
    assert!(first.contains("height     30"), "{first}");
    assert!(first.contains("conserved"), "{first}");
    let committed = first
        .lines()
        .find(|line| line.starts_with("total:"))
        .unwrap();
    assert!(!committed.contains("committed      0 "), "{committed}");

    let second = stdout(&charter(&args));
    assert!(
        second.contains("continuing the chain at height 30"),
        "{second}"
    );
    assert!(second.contains("height     60"), "{second}");
    assert!(
        !second.contains("stale_nonce"),
        "agents must resume from the chain's nonces: {second}"
    );
}

#[test]
fn dev_genesis_writes_a_loadable_genesis_and_private_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    stdout(&charter(&[
        "dev-genesis",
        "--seed",
        "3",
        "--validators",
        "4",
        "--members",
        "2",
        "--out",
        out,
    ]));
    let genesis: Genesis =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("genesis.json")).unwrap())
            .unwrap();
    let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
    ledger.init_genesis(&genesis).unwrap();
    assert_eq!(ledger.active_validators().unwrap().members.len(), 4);

    let key_path = dir.path().join("keys/passport-0.json");
    assert_eq!(
        std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(key_path).unwrap()).unwrap();
    assert_eq!(
        key["controller_public_key"],
        genesis.passports[0].controller_keys[0].to_hex()
    );
    assert_eq!(
        key["validator"]["bls_public_key"],
        genesis.validators[0].bls_key.to_hex()
    );
}

#[test]
fn keygen_never_overwrites_a_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("validator.json");
    let path = path.to_str().unwrap();
    stdout(&charter(&["keygen", "--validator", "--out", path]));
    let original = std::fs::read_to_string(path).unwrap();
    let again = charter(&["keygen", "--out", path]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("creating"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(path).unwrap(), original);
}

#[test]
fn dev_genesis_writes_nothing_invalid_and_overwrites_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let invalid = charter(&["dev-genesis", "--validators", "0", "--out", out]);
    assert!(!invalid.status.success());
    let stderr = String::from_utf8_lossy(&invalid.stderr);
    assert!(stderr.contains("the genesis is not valid"), "{stderr}");
    assert!(!dir.path().join("genesis.json").exists());

    stdout(&charter(&["dev-genesis", "--seed", "1", "--out", out]));
    let genesis = std::fs::read_to_string(dir.path().join("genesis.json")).unwrap();
    let again = charter(&["dev-genesis", "--seed", "2", "--out", out]);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("File exists"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("genesis.json")).unwrap(),
        genesis
    );
}

#[test]
fn a_genesis_assembled_from_operators_public_keys_is_what_a_node_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let mut spec = String::from(
        "federation = \"0c85ba740f5d1c695d88b882d00687a1d1a5361a8e8b01b75f4c2cb446c75de6\"\n\
         cell = 3\narbiter_threshold = 1\n",
    );
    // Four validator operators, one arbiter and one member each make keys and share only the
    // public half.
    let roles = [
        ("validator", 10_000),
        ("validator", 10_000),
        ("validator", 10_000),
        ("validator", 10_000),
        ("arbiter", 100),
        ("member", 0),
    ];
    for (index, (role, bonded)) in roles.iter().enumerate() {
        let key = path(&format!("operator-{index}.json"));
        let mut keygen = vec!["keygen", "--out", &key];
        if *role == "validator" {
            keygen.push("--validator");
        }
        stdout(&charter(&keygen));
        let public = stdout(&charter(&["public-keys", "--key", &key]));
        assert!(
            !public.contains("seed") && !public.contains("secret"),
            "{public}"
        );
        std::fs::write(path(&format!("operator-{index}.public.json")), public).unwrap();
        spec.push_str(&format!(
            "\n[[passport]]\nkeys = \"operator-{index}.public.json\"\nrole = \"{role}\"\n\
             balance = 5000\nbonded = {bonded}\n"
        ));
    }
    std::fs::write(path("spec.toml"), &spec).unwrap();
    let out = path("genesis.json");
    let report = stdout(&charter(&[
        "genesis",
        "--spec",
        &path("spec.toml"),
        "--out",
        &out,
    ]));

    let genesis: Genesis = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    for index in 0..roles.len() {
        assert!(
            report.contains(&genesis.passport_id(index).to_hex()),
            "{report}"
        );
    }
    let mut ledger = Ledger::open(MemoryStorage::new()).unwrap();
    ledger.init_genesis(&genesis).unwrap();
    let active = ledger.active_validators().unwrap();
    assert_eq!(active.members.len(), 4);
    assert!(active.members.iter().all(|member| member.power == 10_000));
    assert_eq!(genesis.arbiters.members, vec![genesis.passport_id(4)]);

    // A validator entry without validator keys is refused with the reason.
    std::fs::write(
        path("bad.toml"),
        spec.replace("role = \"member\"", "role = \"validator\""),
    )
    .unwrap();
    let refused = charter(&[
        "genesis",
        "--spec",
        &path("bad.toml"),
        "--out",
        &path("bad.json"),
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("has no validator keys"));
}
