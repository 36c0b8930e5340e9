//! Governance on a live cell of four `charter run` processes, driven through `charter gov`:
//! a parameter change is proposed, deliberated, voted in two chambers (one member's weight
//! delegated) and executed at its deadline, at the same height on every validator; a
//! resolution sponsored by members is vetoed by two guardians and never tallied; and late or
//! forged input is refused with its code. And an escrow dispute goes to a jury drawn by
//! sortition from the beacon, whose majority ruling releases the funds on every validator at
//! the same height; and an arbiter's slash case goes to a jury whose majority slashes the
//! offender's bond on every validator at the same height.

use charter_e2e::{charter, http, Cell};
use charter_ledger::governance::{draw_jury, JuryCaseId};
use charter_ledger::ids::BeaconMix;
use charter_ledger::{Action, CellId, EscrowId, PassportId};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The dev cell's passports: 0–3 validators (the core chamber), 4–6 arbiters (the council),
/// 7 onwards members.
fn key(dir: &Path, passport: usize) -> String {
    dir.join(format!("keys/passport-{passport}.json"))
        .to_string_lossy()
        .into_owned()
}

fn gov(api: &str, args: &[impl AsRef<str>]) -> Result<String, String> {
    let mut full = vec!["gov", "--api", api];
    full.extend(args.iter().map(AsRef::as_ref));
    let out = charter(&full);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    match out.status.success() {
        true => Ok(text(&out.stdout)),
        false => Err(format!("{}{}", text(&out.stdout), text(&out.stderr))),
    }
}

/// `charter gov vote` arguments: passport `voter`'s `choice` on process 0.
fn ballot(dir: &Path, voter: usize, choice: &str) -> Vec<String> {
    let key = key(dir, voter);
    args(&["vote", "--key", &key, "--process", "0", "--choice", choice])
}

/// Runs several `charter gov` commands at once (a block's worth of ballots), each through
/// its own validator's API; every one must commit.
fn all_at_once(apis: &[String], commands: &[Vec<String>]) {
    let children: Vec<_> = (commands.iter().enumerate())
        .map(|(index, args)| {
            Command::new(charter_e2e::charter_binary())
                .args(["gov", "--api", &apis[index % apis.len()]])
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("charter starts")
        })
        .collect();
    for (child, args) in children.into_iter().zip(commands) {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "charter gov {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn read(api: &str, path: &str) -> Value {
    let (status, body) = http(api, "GET", path, b"");
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

fn process(api: &str, id: u64) -> Value {
    read(api, &format!("/v1/governance/processes/{id}"))["value"].clone()
}

/// Waits (polling the first API, as a client would) until `done` holds for process `id`.
fn wait_for(apis: &[String], id: u64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let process = process(&apis[0], id);
        if done(&process) {
            return process;
        }
        assert!(
            Instant::now() < deadline,
            "process {id} never {what}: {process}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn height(api: &str) -> u64 {
    read(api, "/v1/status")["height"].as_u64().unwrap()
}

/// Waits until block `target` is committed on every validator.
fn wait_for_height(apis: &[String], target: u64) {
    let deadline = Instant::now() + Duration::from_secs(90);
    for api in apis {
        while height(api) < target {
            assert!(
                Instant::now() < deadline,
                "height {target} never came to {api}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| word.to_string()).collect()
}

#[test]
fn a_parameter_change_executes_everywhere_at_its_deadline_and_a_vetoed_resolution_never_does() {
    let dir = tempfile::tempdir().unwrap();
    let cell = Cell::running(dir.path(), 4);
    let dir = dir.path();
    let apis: Vec<String> = cell.nodes.iter().map(|node| node.api.clone()).collect();

    let change = r#"{"parameter_change":{"parameter":"max_emergency_blocks","value":500}}"#;
    gov(
        &apis[0],
        &["propose", "--key", &key(dir, 0), "--proposal", change],
    )
    .unwrap();
    let proposed = process(&apis[0], 0);
    assert_eq!(
        proposed["status"], "open",
        "a core member proposes alone: {proposed}"
    );
    let schedule = proposed["schedule"].clone();
    let opens = schedule["voting_opens"].as_u64().unwrap();
    let executes_at = schedule["executes_at"].as_u64().unwrap();

    gov(
        &apis[1],
        &[
            "delegate",
            "--key",
            &key(dir, 9),
            "--to",
            &member_id(&cell, 8),
        ],
    )
    .unwrap();
    wait_for_height(&apis, opens - 1);
    let ballots: Vec<_> = [0, 1, 2, 7, 8]
        .into_iter()
        .map(|voter| ballot(dir, voter, "yes"))
        .collect();
    all_at_once(&apis, &ballots);
    let outside = gov(&apis[0], &ballot(dir, 4, "yes"));
    assert!(
        outside.unwrap_err().contains("not_in_chamber"),
        "an arbiter is not in the core or the members"
    );

    let executed = wait_for(&apis, 0, "executed", |p| p["status"] == "executed");
    let members = &executed["tallies"][1];
    assert_eq!(
        members["yes"], 3,
        "members 7 and 8, and 9 through its delegate: {executed}"
    );
    wait_for_height(&apis, executes_at);
    let roots: Vec<Value> = (apis.iter())
        .map(|api| {
            let before = read(
                api,
                &format!("/v1/governance/processes/0?height={}", executes_at - 1),
            );
            assert_eq!(before["value"]["status"], "passed", "{api}");
            let at = read(
                api,
                &format!("/v1/governance/processes/0?height={executes_at}"),
            );
            assert_eq!(at["value"]["status"], "executed", "{api}");
            let params = &read(api, "/v1/status")["params"];
            assert_eq!(params["max_emergency_blocks"], 500, "{api}");
            at["state_root"].clone()
        })
        .collect();
    assert!(roots.iter().all(|root| *root == roots[0]), "{roots:?}");
    let late = gov(&apis[3], &ballot(dir, 3, "no"));
    assert!(late.unwrap_err().contains("process_wrong_state"));

    let resolution = r#"{"resolution":{"text":"the cell thanks its validators"}}"#;
    gov(
        &apis[0],
        &["propose", "--key", &key(dir, 1), "--proposal", resolution],
    )
    .unwrap();
    assert_eq!(process(&apis[0], 1)["status"], "sponsoring");
    all_at_once(
        &apis,
        &[
            args(&["sponsor", "--key", &key(dir, 10), "--process", "1"]),
            args(&["sponsor", "--key", &key(dir, 11), "--process", "1"]),
        ],
    );
    // The second sponsor committed through the second validator, which the first may trail.
    wait_for(&apis, 1, "opened", |process| process["status"] == "open");
    let reason = "a resolution needs a quorum of the council too";
    let approve = |guardian: &str| {
        let guardian = dir.join(format!("keys/{guardian}.json"));
        let guardian = guardian.to_str().unwrap();
        let args = [
            "approve-veto",
            "--guardian-key",
            guardian,
            "--process",
            "1",
            "--reason",
            reason,
        ];
        gov(&apis[0], &args).unwrap().trim().to_string()
    };
    let forged = approve("passport-12");
    let refused = gov(
        &apis[0],
        &[
            "veto",
            "--key",
            &key(dir, 12),
            "--process",
            "1",
            "--reason",
            reason,
            "--approval",
            &forged,
            "--approval",
            &approve("guardian-0"),
        ],
    );
    assert!(refused.unwrap_err().contains("invalid_veto"));
    let veto = [
        "veto",
        "--key",
        &key(dir, 12),
        "--process",
        "1",
        "--reason",
        reason,
    ];
    let (first, second) = (approve("guardian-0"), approve("guardian-2"));
    let mut vetoing: Vec<&str> = veto.to_vec();
    vetoing.extend(["--approval", &first, "--approval", &second]);
    gov(&apis[1], &vetoing).unwrap();
    let closes = process(&apis[0], 1)["schedule"]["voting_closes"]
        .as_u64()
        .unwrap();
    wait_for_height(&apis, closes + 1);
    for api in &apis {
        let vetoed = process(api, 1);
        assert_eq!(vetoed["status"], "vetoed", "{api}: {vetoed}");
        let events: Vec<&str> = (vetoed["history"].as_array().unwrap().iter())
            .map(|event| event["event"].as_str().unwrap())
            .collect();
        assert_eq!(
            events,
            ["proposed", "scheduled", "vetoed"],
            "never tallied on {api}"
        );
    }
    let listed = gov(&apis[2], &["list"]).unwrap();
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["count"], 2);
    assert_eq!(listed["processes"][0]["id"], 1, "newest first");
}

fn member_id(cell: &Cell, passport: usize) -> String {
    cell.genesis().passport_id(passport).to_hex()
}

/// `charter tx send`: the committed transaction's report, or what the command said when it
/// was refused.
fn try_tx_send(api: &str, dir: &Path, passport: usize, action: &Action) -> Result<Value, String> {
    let action = serde_json::to_string(action).unwrap();
    let key = key(dir, passport);
    let out = charter(&[
        "tx", "send", "--api", api, "--key", &key, "--action", &action,
    ]);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "committed", "{report}");
    Ok(report)
}

fn tx_send(api: &str, dir: &Path, passport: usize, action: &Action) -> Value {
    try_tx_send(api, dir, passport, action).unwrap()
}

fn case(api: &str, id: u64, at: Option<u64>) -> Value {
    let height = at.map_or(String::new(), |height| format!("?height={height}"));
    read(api, &format!("/v1/governance/cases/{id}{height}"))["value"].clone()
}

/// `charter gov jury rule` arguments: passport `juror`'s `verdict` on case `id`.
fn rule(dir: &Path, id: u64, juror: usize, verdict: &str) -> Vec<String> {
    let key = key(dir, juror);
    let id = id.to_string();
    args(&[
        "jury",
        "rule",
        "--key",
        &key,
        "--case",
        &id,
        "--verdict",
        verdict,
    ])
}

/// Members 10–14 join the jury pool, each through its own validator.
fn stock_the_jury_pool(apis: &[String], dir: &Path) {
    let joining: Vec<_> = (10..15)
        .map(|member| args(&["jury", "join", "--key", &key(dir, member)]))
        .collect();
    all_at_once(apis, &joining);
}

/// The pool member (10–14) holding passport `id`.
fn member_of(cell: &Cell, id: &PassportId) -> usize {
    (10..15)
        .find(|member| cell.genesis().passport_id(*member) == *id)
        .expect("jurors come from the pool")
}

fn ids(value: &Value) -> Vec<PassportId> {
    (value.as_array().unwrap().iter())
        .map(|id| PassportId::from_hex(id.as_str().unwrap()).unwrap())
        .collect()
}

fn balance(api: &str, passport: &str, height: u64) -> u64 {
    let read = read(api, &format!("/v1/passports/{passport}?height={height}"));
    read["value"]["balance"].as_u64().unwrap()
}

#[test]
fn an_escrow_dispute_goes_to_a_jury_drawn_by_sortition_and_its_ruling_releases_the_funds() {
    let dir = tempfile::tempdir().unwrap();
    let cell = Cell::running(dir.path(), 4);
    let dir = dir.path();
    let apis: Vec<String> = cell.nodes.iter().map(|node| node.api.clone()).collect();
    stock_the_jury_pool(&apis, dir);

    let (payer, payee, arbiter) = (7, 8, 4);
    let now = height(&apis[0]);
    let create = Action::EscrowCreate {
        payee: cell.genesis().passport_id(payee),
        amount: 500,
        arbiter: Some(cell.genesis().passport_id(arbiter)),
        release_height: now + 1,
        expiry_height: now + 1_000,
    };
    let created = tx_send(&apis[0], dir, payer, &create);
    let nonce = created["transaction"]["body"]["nonce"].as_u64().unwrap();
    let escrow = EscrowId::derive(CellId(0), &cell.genesis().passport_id(payer), nonce);
    // Each step through the node that committed the one before, which therefore knows it.
    tx_send(&apis[0], dir, payee, &Action::EscrowDispute { escrow });
    let request = ["jury", "request", "--key", &key(dir, payee), "--escrow"];
    let mut requesting: Vec<&str> = request.to_vec();
    let escrow_hex = escrow.to_hex();
    requesting.push(&escrow_hex);
    gov(&apis[0], &requesting).unwrap();

    let filed = case(&apis[0], 0, None);
    assert_eq!(filed["status"], "awaiting_draw", "{filed}");
    let pool = ids(&filed["pool"]);
    let members: Vec<PassportId> = (10..15).map(|m| cell.genesis().passport_id(m)).collect();
    assert_eq!(
        pool,
        sorted(members),
        "the pool as filed, the parties not in it"
    );
    let draw_at = filed["draw_at"].as_u64().unwrap();
    let closes_at = filed["closes_at"].as_u64().unwrap();

    wait_for_height(&apis, draw_at);
    let drawn = case(&apis[0], 0, Some(draw_at));
    assert_eq!(drawn["status"], "ruling", "{drawn}");
    let beacon = read(&apis[0], &format!("/v1/governance/beacon?height={draw_at}"));
    assert_eq!(
        drawn["seed"], beacon["value"]["mix"],
        "seeded by the beacon of draw_at"
    );
    let seed = BeaconMix::from_hex(drawn["seed"].as_str().unwrap()).unwrap();
    let jurors = ids(&drawn["jurors"]);
    assert_eq!(jurors, draw_jury(&seed, JuryCaseId(0), &pool, 3));
    let juror: Vec<usize> = jurors.iter().map(|id| member_of(&cell, id)).collect();
    all_at_once(
        &apis,
        &[
            rule(dir, 0, juror[0], "for-claim"),
            rule(dir, 0, juror[1], "for-claim"),
        ],
    );
    let outsider = (10..15).find(|member| !juror.contains(member)).unwrap();
    let refused = gov(&apis[3], &rule(dir, 0, outsider, "against-claim"));
    assert!(refused.unwrap_err().contains("not_a_juror"));
    let again = gov(&apis[3], &rule(dir, 0, juror[0], "against-claim"));
    assert!(again.unwrap_err().contains("already_ruled"));

    wait_for_height(&apis, closes_at);
    let payee_id = cell.genesis().passport_id(payee).to_hex();
    let roots: Vec<Value> = (apis.iter())
        .map(|api| {
            let before = read(
                api,
                &format!("/v1/escrows/{escrow}?height={}", closes_at - 1),
            );
            assert_eq!(before["value"]["status"], "BeforeJury", "{api}");
            let after = read(api, &format!("/v1/escrows/{escrow}?height={closes_at}"));
            assert_eq!(after["value"]["status"], "Resolved", "{api}");
            let paid = balance(api, &payee_id, closes_at) - balance(api, &payee_id, closes_at - 1);
            assert_eq!(paid, 500, "the escrow went to the payee on {api}");
            let closed = case(api, 0, Some(closes_at));
            let outcome = &closed["outcome"];
            assert_eq!(outcome["verdict"], "for_claim", "{api}: {closed}");
            assert_eq!(
                (
                    outcome["for_claim"].as_u64(),
                    outcome["against_claim"].as_u64()
                ),
                (Some(2), Some(0))
            );
            assert_eq!(
                ids(&outcome["absent"]),
                vec![jurors[2]],
                "the third juror never ruled"
            );
            after["state_root"].clone()
        })
        .collect();
    assert!(roots.iter().all(|root| *root == roots[0]), "{roots:?}");
    let proved = charter(&["query", "--api", &apis[1], "case", "0", "--proof"]);
    assert!(
        proved.status.success(),
        "{}",
        String::from_utf8_lossy(&proved.stderr)
    );
}

#[test]
fn a_slash_case_goes_to_a_jury_whose_majority_slashes_the_offender_on_every_validator() {
    let dir = tempfile::tempdir().unwrap();
    let cell = Cell::running(dir.path(), 4);
    let dir = dir.path();
    let apis: Vec<String> = cell.nodes.iter().map(|node| node.api.clone()).collect();
    stock_the_jury_pool(&apis, dir);

    let (offender, filer) = (3, 5);
    let offender_id = member_id(&cell, offender);
    let key = key(dir, filer);
    let number = "c5".repeat(32);
    let slash = [
        "jury",
        "slash",
        "--key",
        &key,
        "--offender",
        &offender_id,
        "--amount",
        "300",
        "--case",
        &number,
    ];
    gov(&apis[0], &slash).unwrap();
    let filed = case(&apis[0], 0, None);
    assert_eq!(filed["subject"]["slash"]["offender"], offender_id.as_str());
    assert_eq!(filed["subject"]["slash"]["case"], number.as_str());
    let open = format!("/v1/governance/slash-cases/{offender_id}");
    assert_eq!(read(&apis[0], &open)["value"], serde_json::json!([0]));
    let withdrawal = try_tx_send(&apis[0], dir, offender, &Action::Withdraw);
    assert!(
        withdrawal.unwrap_err().contains("stake_before_jury"),
        "the offender's stake stays while the jury decides"
    );
    let again = gov(&apis[0], &slash).unwrap_err();
    assert!(again.contains("evidence_already_used"), "{again}");

    let draw_at = filed["draw_at"].as_u64().unwrap();
    let closes_at = filed["closes_at"].as_u64().unwrap();
    wait_for_height(&apis, draw_at);
    let drawn = case(&apis[0], 0, Some(draw_at));
    let jurors: Vec<usize> = (ids(&drawn["jurors"]).iter())
        .map(|id| member_of(&cell, id))
        .collect();
    let rulings: Vec<_> = (jurors.iter())
        .map(|juror| rule(dir, 0, *juror, "for-claim"))
        .collect();
    all_at_once(&apis, &rulings);

    wait_for_height(&apis, closes_at);
    let bonded = |api: &str, height: u64| {
        let bond = read(api, &format!("/v1/bonds/{offender_id}?height={height}"));
        bond["value"]["bonded"].as_u64().unwrap()
    };
    let roots: Vec<Value> = (apis.iter())
        .map(|api| {
            let slashed = bonded(api, closes_at - 1) - bonded(api, closes_at);
            assert_eq!(slashed, 300, "slashed at the close on {api}");
            let closed = case(api, 0, Some(closes_at));
            assert_eq!(closed["outcome"]["verdict"], "for_claim", "{api}: {closed}");
            assert_eq!(closed["outcome"]["slashed"], 300, "{api}: {closed}");
            let freed = read(api, &format!("{open}?height={closes_at}"));
            assert_eq!(freed["value"], Value::Null, "{api}");
            freed["state_root"].clone()
        })
        .collect();
    assert!(roots.iter().all(|root| *root == roots[0]), "{roots:?}");
    let proved = charter(&[
        "query",
        "--api",
        &apis[2],
        "slash-cases",
        &offender_id,
        "--proof",
    ]);
    assert!(
        proved.status.success(),
        "{}",
        String::from_utf8_lossy(&proved.stderr)
    );
}

fn sorted(mut ids: Vec<PassportId>) -> Vec<PassportId> {
    ids.sort();
    ids
}
