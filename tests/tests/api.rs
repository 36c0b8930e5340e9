//! Clients against a live cell of `charter run` processes: a signed transaction submitted to one
//! validator's API commits on every validator, bad submissions get typed errors, a state proof
//! fetched from one validator verifies against the root another validator reported, and every
//! error, the framework's included, answers `{"error", "message"}`.

use charter_e2e::openapi::OpenApi;
use charter_e2e::{charter, http, Cell};
use charter_ledger::crypto::ed25519::Ed25519Keypair;
use charter_ledger::governance::{Parameter, Proposal};
use charter_ledger::state::StateKey;
use charter_ledger::{
    verify_proof, Action, PassportId, SignedTransaction, StateProof, StateRoot, TransactionBody,
};
use serde_json::Value;

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("a JSON body")
}

/// Member 0 of the dev genesis (after 4 validators and 3 arbiters) pays member 1 `amount`, at
/// `nonce`.
fn member_pays(cell: &Cell, dir: &std::path::Path, amount: u64, nonce: u64) -> SignedTransaction {
    let to = cell.genesis().passport_id(8);
    signed_by(cell, dir, 7, nonce, Action::Transfer { to, amount })
}

/// `action` from genesis passport `passport`, signed with the key in its key file.
fn signed_by(
    cell: &Cell,
    dir: &std::path::Path,
    passport: usize,
    nonce: u64,
    action: Action,
) -> SignedTransaction {
    let genesis = cell.genesis();
    let path = dir.join(format!("keys/passport-{passport}.json"));
    let keys: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut seed = [0u8; 32];
    hex::decode_to_slice(keys["controller_seed"].as_str().unwrap(), &mut seed).unwrap();
    TransactionBody {
        federation: genesis.federation,
        cell: genesis.cell,
        sender: genesis.passport_id(passport),
        nonce,
        fee: 0,
        action,
    }
    .sign(&Ed25519Keypair::from_seed(seed))
}

#[test]
fn a_submitted_transfer_commits_everywhere_and_proofs_verify_across_validators() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = Cell::running(dir.path(), 4);

    let genesis = cell.genesis();
    let (payer, payee) = (genesis.passport_id(7), genesis.passport_id(8));
    let transfer = member_pays(&cell, dir.path(), 777, 0);
    let api = cell.nodes[0].api.clone();
    let (status, body) = http(&api, "POST", "/v1/transactions", &transfer.encode());
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    assert_eq!(json(&body)["id"], transfer.id().to_hex());

    let (status, body) = http(&api, "POST", "/v1/transactions", &transfer.encode());
    assert_eq!(
        (status, json(&body)["error"].as_str().unwrap()),
        (409, "duplicate")
    );
    let (status, body) = http(&api, "POST", "/v1/transactions", b"not a transaction");
    assert_eq!(
        (status, json(&body)["error"].as_str().unwrap()),
        (400, "malformed")
    );
    // A body altered after signing (here to overdraw) fails its signature check.
    let mut tampered = transfer.clone();
    tampered.body.nonce = 1;
    tampered.body.action = Action::Transfer {
        to: payee,
        amount: u64::MAX,
    };
    let (status, body) = http(&api, "POST", "/v1/transactions", &tampered.encode());
    assert_eq!(
        (status, json(&body)["error"].as_str().unwrap()),
        (400, "bad_signature")
    );

    // Following it on validator 3 (which heard of it by gossip, or from the block) waits until
    // the cell decides it.
    let (status, body) = http(
        &cell.nodes[3].api.clone(),
        "GET",
        &format!("/v1/transactions/{}?wait=30", transfer.id().to_hex()),
        b"",
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let followed = json(&body);
    assert_eq!(followed["status"], "committed", "{followed}");
    assert_eq!(followed["transaction"]["body"]["sender"], payer.to_hex());
    let included_at = followed["height"].as_u64().unwrap();
    cell.wait_for_height(1, included_at);
    let (status, body) = http(
        &cell.nodes[1].api.clone(),
        "GET",
        &format!("/v1/blocks/{included_at}"),
        b"",
    );
    assert_eq!(status, 200);
    let block = json(&body);
    assert_eq!(block["hash"], followed["block"]);
    assert_eq!(block["transactions"][0]["id"], transfer.id().to_hex());
    assert!(block["certificate"]["signatures"].as_array().unwrap().len() >= 3);
    // A light client checks the transfer's inclusion against the genesis validators, and the
    // payee's state proof against the root a second validator certified.
    let genesis_path = dir.path().join("genesis.json");
    let out = charter(&[
        "query",
        "--api",
        &cell.nodes[2].api,
        "--proof",
        "--genesis",
        genesis_path.to_str().unwrap(),
        "tx",
        &transfer.id().to_hex(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("included in block"));
    let out = charter(&[
        "query",
        "--api",
        &cell.nodes[2].api,
        "--proof",
        "--against",
        &cell.nodes[1].api,
        "passport",
        &payee.to_hex(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("certified at height"));

    let (status, body) = http(
        &api,
        "GET",
        &format!("/v1/transactions/{}", hex::encode([7u8; 32])),
        b"",
    );
    assert_eq!(
        (status, json(&body)["error"].as_str().unwrap()),
        (404, "unknown_transaction")
    );

    // Read the payee from validator 2 with a proof, and check it against validator 1's root.
    let (status, body) = http(
        &cell.nodes[2].api.clone(),
        "GET",
        &format!("/v1/passports/{}?proof=true", payee.to_hex()),
        b"",
    );
    assert_eq!(status, 200);
    let read = json(&body);
    assert_eq!(read["value"]["balance"], 1_000_777);
    // Reads at an earlier height (a checkpoint's, say) see the state then, with its own proof.
    let (status, body) = http(
        &cell.nodes[2].api.clone(),
        "GET",
        &format!("/v1/passports/{}?proof=true&height=1", payee.to_hex()),
        b"",
    );
    assert_eq!(status, 200);
    let early = json(&body);
    assert_eq!(early["height"], 1);
    assert!(early["proof"].is_string());
    let (status, body) = http(
        &cell.nodes[2].api.clone(),
        "GET",
        &format!("/v1/passports/{}?height=999999999", payee.to_hex()),
        b"",
    );
    assert_eq!(
        (status, json(&body)["error"].as_str()),
        (404, Some("unknown_height"))
    );
    let height = read["height"].as_u64().unwrap();
    cell.wait_for_height(1, height);
    let root_from_validator_1 = StateRoot(hex_array(&cell.history[&1][&height].root));
    let value = hex::decode(read["encoded"].as_str().unwrap()).unwrap();
    let proof = StateProof::decode(&hex::decode(read["proof"].as_str().unwrap()).unwrap()).unwrap();
    let key = StateKey::Passport(payee);
    verify_proof(&root_from_validator_1, &key, Some(&value), &proof).unwrap();
    assert!(verify_proof(
        &root_from_validator_1,
        &StateKey::Passport(PassportId([1; 32])),
        Some(&value),
        &proof
    )
    .is_err());

    let (status, _) = http(
        &cell.nodes[3].api.clone(),
        "GET",
        "/v1/passports/nothex",
        b"",
    );
    assert_eq!(status, 400);

    // Operators and tools: the OpenAPI document names every route, and metrics count what
    // this node admitted and committed.
    let (status, body) = http(&api, "GET", "/v1/openapi.json", b"");
    assert_eq!(status, 200);
    let openapi = json(&body);
    for path in [
        "/v1/status",
        "/v1/transactions",
        "/v1/transactions/{id}",
        "/v1/blocks/{height}",
        "/v1/blocks/stream",
        "/v1/passports/{id}",
        "/v1/bonds/{id}",
        "/v1/escrows/{id}",
        "/v1/validators",
        "/v1/federation",
        "/v1/checkpoints/{cell}/{epoch}",
        "/metrics",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "{path} is documented");
    }
    let (status, body) = http(&api, "GET", "/metrics", b"");
    assert_eq!(status, 200);
    let metrics = String::from_utf8(body).unwrap();
    let sample = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
    };
    assert_eq!(
        sample("charter_transactions_admitted_total{source=\"client\"}"),
        1.0
    );
    assert_eq!(
        sample("charter_transactions_refused_total{reason=\"duplicate\"}"),
        1.0
    );
    assert_eq!(
        sample("charter_transactions_refused_total{reason=\"bad_signature\"}"),
        1.0
    );
    assert!(sample("charter_transactions_committed_total") >= 1.0);
    assert!(sample("charter_height") >= included_at as f64);
    assert_eq!(sample("charter_commit_latency_seconds_count"), 1.0);
}

#[test]
fn committed_blocks_stream_to_a_subscriber() {
    let dir = tempfile::tempdir().unwrap();
    let cell = Cell::running(dir.path(), 4);
    let stream = charter_client::ApiClient::new(&cell.nodes[0].api)
        .unwrap()
        .block_stream()
        .unwrap();
    let heights: Vec<u64> = stream
        .take(3)
        .map(|data| {
            let event: Value = serde_json::from_str(&data.unwrap()).unwrap();
            event["height"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(heights.len(), 3, "the stream went on");
    assert!(
        heights.windows(2).all(|pair| pair[1] == pair[0] + 1),
        "consecutive blocks, in order: {heights:?}"
    );
}

fn hex_array(text: &str) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text, &mut bytes).unwrap();
    bytes
}

/// What the HTTP framework refuses before a handler runs answers in the API's error shape too,
/// and a body above the submission limit is refused from its declared length, unread.
#[test]
fn every_error_path_answers_the_json_shape() {
    let dir = tempfile::tempdir().unwrap();
    let cell = Cell::running(dir.path(), 4);
    let api = cell.nodes[0].api.clone();
    let zeros = "00".repeat(32);
    for (method, path, status, code) in [
        ("GET", "/v1/nowhere".to_string(), 404, "no_such_route"),
        (
            "DELETE",
            "/v1/status".to_string(),
            405,
            "method_not_allowed",
        ),
        (
            "GET",
            format!("/v1/transactions/{zeros}?wait=x"),
            400,
            "bad_request",
        ),
        (
            "GET",
            format!("/v1/transactions/{zeros}?wait=61"),
            400,
            "invalid_wait",
        ),
        (
            "GET",
            format!("/v1/passports/{zeros}?height=-1"),
            400,
            "bad_request",
        ),
        ("GET", "/v1/blocks/tall".to_string(), 400, "invalid_height"),
        (
            "GET",
            "/v1/passports/not-hex".to_string(),
            400,
            "invalid_passport_id",
        ),
        (
            "GET",
            "/v1/transactions/not-hex".to_string(),
            400,
            "invalid_transaction_id",
        ),
        (
            "GET",
            "/v1/escrows/not-hex".to_string(),
            400,
            "invalid_escrow_id",
        ),
        (
            "POST",
            "/v1/transactions/batch".to_string(),
            400,
            "bad_batch",
        ),
    ] {
        let (answered, body) = http(&api, method, &path, b"");
        let body = json(&body);
        assert_eq!(
            (answered, body["error"].as_str()),
            (status, Some(code)),
            "{method} {path}: {body}"
        );
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|message| !message.is_empty()),
            "{body}"
        );
    }
    let (status, body) = http(&api, "POST", "/v1/transactions", &vec![0u8; 70 * 1024]);
    assert_eq!(
        (status, json(&body)["error"].as_str()),
        (413, Some("body_too_large"))
    );
    let (status, body) = http(
        &api,
        "POST",
        "/v1/transactions/batch",
        &1025u32.to_le_bytes(),
    );
    assert_eq!(
        (status, json(&body)["error"].as_str()),
        (400, Some("bad_batch"))
    );

    refused_before_its_body(&api, "/v1/transactions", 3 << 20);
    refused_before_its_body(&api, "/v1/transactions/batch", 5 << 20);
}

/// A client that declares `length` bytes, above `path`'s limit, is answered 413 before it
/// sends a byte of them.
fn refused_before_its_body(api: &str, path: &str, length: usize) {
    let address = api.trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(address).unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n"
    );
    std::io::Write::write_all(&mut socket, request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("body_too_large") {
        let read = std::io::Read::read(&mut socket, &mut chunk).expect("an answer, not a wait");
        assert!(
            read > 0,
            "closed without an answer: {}",
            String::from_utf8_lossy(&answer)
        );
        answer.extend_from_slice(&chunk[..read]);
    }
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(answer.starts_with("http/1.1 413"), "{answer}");
}

struct Batch {
    envelope: Vec<u8>,
    /// What the node must answer for each transaction, in order: its id or its error code.
    expected: Vec<(&'static str, String)>,
    last_transfer: SignedTransaction,
}

/// A batch of member 0's transfers at nonces 1 and 2 (after its nonce 0 submitted alone), the
/// second again, the first with its signature's last byte flipped, and bytes that are no
/// transaction.
fn batch_of_two_transfers_a_forgery_and_garbage(cell: &Cell, dir: &std::path::Path) -> Batch {
    let (second, third) = (member_pays(cell, dir, 6, 1), member_pays(cell, dir, 7, 2));
    let mut forged = second.encode();
    *forged.last_mut().unwrap() ^= 1;
    let transactions = vec![
        second.encode(),
        third.encode(),
        third.encode(),
        forged,
        b"garbage".to_vec(),
    ];
    Batch {
        envelope: borsh::to_vec(&transactions).unwrap(),
        expected: vec![
            ("id", second.id().to_hex()),
            ("id", third.id().to_hex()),
            ("error", "duplicate".to_string()),
            ("error", "bad_signature".to_string()),
            ("error", "malformed".to_string()),
        ],
        last_transfer: third,
    }
}

/// Every JSON endpoint of a live cell answers what `node/openapi.json`, as the node serves it,
/// says it answers: a transfer submitted and followed to its commit (with its inclusion
/// proof), blocks, and each state read with and without its proof, present and absent.
#[test]
fn every_endpoint_answers_as_the_openapi_document_says() {
    let dir = tempfile::tempdir().unwrap();
    let cell = Cell::running(dir.path(), 4);
    let api = cell.nodes[0].api.clone();
    let openapi = OpenApi::served_by(&api);
    let genesis = cell.genesis();
    let (payer, payee) = (genesis.passport_id(7), genesis.passport_id(8));
    let transfer = member_pays(&cell, dir.path(), 5, 0);
    let (status, body) = http(&api, "POST", "/v1/transactions", &transfer.encode());
    openapi.check(
        "/v1/transactions",
        "post",
        status,
        &json(&body),
        "/v1/transactions",
    );
    let batched = batch_of_two_transfers_a_forgery_and_garbage(&cell, dir.path());
    let (status, body) = http(&api, "POST", "/v1/transactions/batch", &batched.envelope);
    let answered = json(&body);
    openapi.check(
        "/v1/transactions/batch",
        "post",
        status,
        &answered,
        "/v1/transactions/batch",
    );
    let results = answered["results"].as_array().expect("results");
    let answers: Vec<(&str, String)> = (batched.expected.iter().zip(results))
        .map(|((field, _), result)| (*field, result[field].as_str().unwrap_or("").to_string()))
        .collect();
    assert_eq!(answers, batched.expected, "{answered}");

    let id = batched.last_transfer.id().to_hex();
    let followed = openapi.get(
        &api,
        "/v1/transactions/{id}",
        &format!("/v1/transactions/{id}?wait=30&proof=true"),
    );
    assert_eq!(followed["status"], "committed", "{followed}");
    let height = followed["height"].as_u64().unwrap();

    let validator = genesis.passport_id(0);
    let nobody = "00".repeat(32);
    for (route, path) in [
        ("/v1/status", "/v1/status".to_string()),
        (
            "/v1/transactions/{id}",
            format!("/v1/transactions/{nobody}"),
        ),
        ("/v1/blocks/latest", "/v1/blocks/latest".to_string()),
        ("/v1/blocks/{height}", format!("/v1/blocks/{height}")),
        ("/v1/blocks/{height}", "/v1/blocks/999999999".to_string()),
        ("/v1/passports/{id}", format!("/v1/passports/{payer}")),
        (
            "/v1/passports/{id}",
            format!("/v1/passports/{payee}?proof=true"),
        ),
        (
            "/v1/passports/{id}",
            format!("/v1/passports/{nobody}?proof=true"),
        ),
        (
            "/v1/bonds/{id}",
            format!("/v1/bonds/{validator}?proof=true"),
        ),
        (
            "/v1/escrows/{id}",
            format!("/v1/escrows/{nobody}?proof=true"),
        ),
        ("/v1/validators", "/v1/validators?proof=true".to_string()),
        ("/v1/validators/{id}", format!("/v1/validators/{validator}")),
        (
            "/v1/bridges/{cell}/rulings/{epoch}",
            "/v1/bridges/1/rulings/1".to_string(),
        ),
        ("/v1/federation", "/v1/federation".to_string()),
    ] {
        openapi.get(&api, route, &path);
    }
    governance_endpoints_answer_as_documented(&cell, dir.path(), &openapi);
}

/// A parameter change proposed by validator 0, a delegation from member 9 to member 8 and
/// member 9 joining the jury pool, followed to their commit, then every governance read.
fn governance_endpoints_answer_as_documented(
    cell: &Cell,
    dir: &std::path::Path,
    openapi: &OpenApi,
) {
    let api = cell.nodes[1].api.clone();
    let genesis = cell.genesis();
    let proposal = Proposal::ParameterChange {
        parameter: Parameter::MaxForks,
        value: 6,
    };
    let (delegator, delegate) = (genesis.passport_id(9), genesis.passport_id(8));
    for transaction in [
        signed_by(cell, dir, 0, 0, Action::Propose { proposal }),
        signed_by(cell, dir, 9, 0, Action::Delegate { to: delegate }),
        signed_by(cell, dir, 9, 1, Action::JoinJuryPool),
    ] {
        let (status, _) = http(&api, "POST", "/v1/transactions", &transaction.encode());
        assert_eq!(status, 202);
        let id = transaction.id().to_hex();
        let route = "/v1/transactions/{id}";
        let followed = openapi.get(&api, route, &format!("/v1/transactions/{id}?wait=30"));
        assert_eq!(followed["status"], "committed", "{followed}");
    }
    for (route, path) in [
        (
            "/v1/governance/rules",
            "/v1/governance/rules?proof=true".to_string(),
        ),
        (
            "/v1/governance/electorate",
            "/v1/governance/electorate".to_string(),
        ),
        (
            "/v1/governance/processes",
            "/v1/governance/processes?limit=5".to_string(),
        ),
        (
            "/v1/governance/processes/{id}",
            "/v1/governance/processes/0?proof=true".to_string(),
        ),
        (
            "/v1/governance/processes/{id}",
            "/v1/governance/processes/7".to_string(),
        ),
        (
            "/v1/governance/processes/{id}",
            "/v1/governance/processes/zero".to_string(),
        ),
        (
            "/v1/governance/processes/{id}/ballots",
            "/v1/governance/processes/0/ballots".to_string(),
        ),
        (
            "/v1/governance/processes/{id}/ballots/{passport}",
            format!("/v1/governance/processes/0/ballots/{delegate}?proof=true"),
        ),
        (
            "/v1/governance/delegations/{passport}",
            format!("/v1/governance/delegations/{delegator}?proof=true"),
        ),
        (
            "/v1/governance/delegators/{passport}",
            format!("/v1/governance/delegators/{delegate}"),
        ),
        (
            "/v1/governance/beacon",
            "/v1/governance/beacon?proof=true".to_string(),
        ),
        (
            "/v1/governance/jury-pool",
            "/v1/governance/jury-pool".to_string(),
        ),
        (
            "/v1/governance/jurors/{passport}",
            format!("/v1/governance/jurors/{delegator}?proof=true"),
        ),
        (
            "/v1/governance/jurors/{passport}",
            format!("/v1/governance/jurors/{delegate}"),
        ),
        ("/v1/governance/cases", "/v1/governance/cases".to_string()),
        (
            "/v1/governance/cases/{id}",
            "/v1/governance/cases/0?proof=true".to_string(),
        ),
        (
            "/v1/governance/cases/{id}",
            "/v1/governance/cases/first".to_string(),
        ),
    ] {
        openapi.get(&api, route, &path);
    }
    let process = openapi.get(
        &api,
        "/v1/governance/processes/{id}",
        "/v1/governance/processes/0",
    );
    assert_eq!(process["value"]["status"], "open", "{process}");
    let delegators = openapi.get(
        &api,
        "/v1/governance/delegators/{passport}",
        &format!("/v1/governance/delegators/{delegate}"),
    );
    assert_eq!(delegators["value"], serde_json::json!([delegator.to_hex()]));
}
