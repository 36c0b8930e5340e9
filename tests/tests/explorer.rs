//! The explorer in a real browser: Debian's headless Chromium, driven through chromedriver,
//! against a live 3-cell localnet with its agents. Every page renders with no console error;
//! a committed transaction is found by search and its page shows the outcome; the block list
//! grows without a reload; the federation page shows final epochs for the 3 cells; the pages
//! fit a phone's width. Screenshots of every page go to
//! `$CARGO_TARGET_TMPDIR/explorer-screenshots/`.

use charter_client::ApiClient;
use charter_e2e::localnet::RunningLocalnet;
use charter_e2e::service::LocalService;
use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a port of ours.
fn chromedriver() -> LocalService {
    LocalService::start(CHROMEDRIVER, |port| vec![format!("--port={port}")])
}

/// The browser's console since the last time it was read (chromedriver's log endpoint).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

async fn browser(driver: &LocalService) -> Client {
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900"],
        },
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    // chromedriver takes a moment to listen.
    for _ in 0..100 {
        let connected = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&driver.url)
            .await;
        if let Ok(client) = connected {
            return client;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start a session");
}

/// The errors on the console since the last look; `allowed` filters out the expected ones.
async fn console_errors(client: &Client, allowed: &str) -> Vec<String> {
    let entries = client.issue_cmd(BrowserLog).await.expect("the browser log");
    (entries.as_array().into_iter().flatten())
        .filter(|entry| entry["level"] == "SEVERE")
        .filter_map(|entry| entry["message"].as_str().map(str::to_string))
        .filter(|message| allowed.is_empty() || !message.contains(allowed))
        .collect()
}

struct Visit<'a> {
    client: &'a Client,
    base: String,
    shots: PathBuf,
}

impl Visit<'_> {
    /// Opens `path`, waits for its heading, saves a screenshot as `name.png`, asserts that the
    /// console holds no error, and returns the heading.
    async fn page(&self, path: &str, name: &str) -> String {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
        self.settled(name, "").await
    }

    /// Clicks `element`, waits until the browser is at `path` (a click returns before the
    /// page it leads to has replaced the one clicked on), and checks it as [`Visit::page`] does.
    async fn follow(&self, element: Element, path: &str, name: &str) -> String {
        element.click().await.unwrap();
        let url = url::Url::parse(&format!("{}{path}", self.base)).unwrap();
        (self.client.wait().at_most(Duration::from_secs(10)))
            .for_url(&url)
            .await
            .unwrap_or_else(|_| panic!("the click leads to {path}"));
        self.settled(name, "").await
    }

    /// The page the browser is on, checked as [`Visit::page`] does.
    async fn settled(&self, name: &str, allowed_error: &str) -> String {
        let heading = (self.client.wait().at_most(Duration::from_secs(10)))
            .for_element(Locator::Css("main h1"))
            .await;
        heading.expect("every page has a heading");
        let heading = self.text("main h1").await;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
        let errors = console_errors(self.client, allowed_error).await;
        assert!(errors.is_empty(), "console errors on {name}: {errors:?}");
        heading
    }

    /// The text of the first element `css` finds. Live parts of a page are replaced as blocks
    /// commit, so an element found may be gone by the time it is read: it is then found again
    /// (a few times at most; the page cannot replace it on every read).
    async fn text(&self, css: &str) -> String {
        for _ in 0..5 {
            let element = self.client.find(Locator::Css(css)).await;
            let element = element.unwrap_or_else(|_| panic!("{css} is on the page"));
            match element.text().await {
                Ok(text) => return text,
                Err(error) if error.is_stale_element_reference() => continue,
                Err(error) => panic!("reading {css}: {error}"),
            }
        }
        panic!("{css} was replaced each time it was read")
    }

    async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }
}

/// A transaction committed on cell 0: its id, the height of its block, and its sender.
struct Committed {
    id: String,
    height: u64,
    sender: String,
}

fn committed_transaction(localnet: &RunningLocalnet) -> Committed {
    let api = localnet.api_of_cell(0);
    localnet.await_until(Duration::from_secs(60), || {
        let latest = api.get("/v1/blocks/latest").ok()?["height"].as_u64()?;
        (1..=latest).rev().take(20).find_map(|height| {
            let block = api.get(&format!("/v1/blocks/{height}")).ok()?;
            let transactions = block["transactions"].as_array()?;
            let committed = transactions.iter().find(|tx| tx["status"] == "committed")?;
            Some(Committed {
                id: committed["id"].as_str()?.to_string(),
                height,
                sender: committed["transaction"]["body"]["sender"]
                    .as_str()?
                    .to_string(),
            })
        })
    })
}

fn screenshots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("explorer-screenshots");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_shows_a_live_federation_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let localnet = RunningLocalnet::start(dir.path(), &["--cells", "3", "--report-every", "1000"]);
    let api = localnet.api_of_cell(0);
    localnet.await_final_epochs(&api, 3, 1);
    let committed = committed_transaction(&localnet);

    let driver = chromedriver();
    let client = browser(&driver).await;
    let visit = Visit {
        client: &client,
        base: localnet.apis()[0].clone(),
        shots: screenshots_dir(),
    };
    assert_eq!(visit.page("/explorer", "cell").await, "Cell 0");
    assert!(
        visit.count("#blocks tbody tr").await > 0,
        "the cell's page lists blocks"
    );
    the_block_list_grows_without_a_reload(&visit).await;
    search_finds_the_transaction_and_its_pages(&visit, &committed).await;
    assert_eq!(
        visit.page("/explorer/validators", "validators").await,
        "Validators"
    );
    assert!(
        visit.count("main table tbody tr").await >= 4,
        "cell 0's validators"
    );
    assert_eq!(visit.page("/explorer/escrows", "escrows").await, "Escrows");
    if let Ok(escrow) = client.find(Locator::Css("main table tbody tr td a")).await {
        let path = escrow.attr("href").await.unwrap().expect("a link");
        assert_eq!(visit.follow(escrow, &path, "escrow").await, "Escrow");
    }
    the_federation_shows_a_final_epoch_for_each_cell(&visit).await;
    let process = localnet.await_until(Duration::from_secs(60), || {
        let list = api.get("/v1/governance/processes?limit=1").ok()?;
        list["processes"][0]["id"].as_u64()
    });
    governance_shows_the_agents_process(&visit, process).await;
    unknown_pages_say_so(&visit, &api).await;
    pages_fit_a_phone(&visit, committed.height).await;
    client.close().await.unwrap();
}

async fn the_block_list_grows_without_a_reload(visit: &Visit<'_>) {
    assert_eq!(visit.page("/explorer/blocks", "blocks").await, "Blocks");
    let first_row = "#blocks tbody tr:first-child td:first-child";
    let before: u64 = visit.text(first_row).await.parse().unwrap();
    let client = visit.client;
    client
        .execute("window.notReloaded = true;", vec![])
        .await
        .unwrap();
    let next = format!(
        "#blocks tbody tr.fresh td:first-child a[href='/explorer/blocks/{}']",
        before + 1
    );
    let waited = (client.wait().at_most(Duration::from_secs(30)))
        .for_element(Locator::Css(&next))
        .await;
    if waited.is_err() {
        // Say what the table shows instead, so that a failure tells where the stream stopped.
        let mut shown = Vec::new();
        let rows = client.find_all(Locator::Css("#blocks tbody tr")).await;
        for row in rows.unwrap_or_default().into_iter().take(6) {
            let class = row.attr("class").await.ok().flatten();
            shown.push(format!(
                "{} ({class:?})",
                row.text().await.unwrap_or_default()
            ));
        }
        panic!(
            "block {} never appeared at the top of the list: {shown:?}",
            before + 1
        );
    }
    let kept = client
        .execute("return window.notReloaded === true;", vec![])
        .await;
    assert_eq!(kept.unwrap(), json!(true), "the page was not reloaded");
}

async fn search_finds_the_transaction_and_its_pages(visit: &Visit<'_>, committed: &Committed) {
    let client = visit.client;
    visit.page("/explorer", "cell-before-search").await;
    let search = client
        .find(Locator::Css("form.search input"))
        .await
        .unwrap();
    search.send_keys(&committed.id).await.unwrap();
    let button = client
        .find(Locator::Css("form.search button"))
        .await
        .unwrap();
    let found = format!("/explorer/transactions/{}", committed.id);
    assert_eq!(
        visit.follow(button, &found, "transaction").await,
        "Transaction"
    );
    let url = client.current_url().await.unwrap();
    assert!(url.path().ends_with(&committed.id), "{url}");
    assert_eq!(visit.text("dd .badge").await, "committed");

    let height = committed.height;
    let block = visit
        .page(&format!("/explorer/blocks/{height}"), "block")
        .await;
    assert_eq!(block, format!("Block {height}"));
    assert!(
        visit.count("ul.signers li").await >= 3,
        "the certificate's signers"
    );
    let listed = format!("a[href='/explorer/transactions/{}']", committed.id);
    assert_eq!(visit.count(&listed).await, 1, "the block lists it");

    let passport = format!("/explorer/passports/{}", committed.sender);
    assert_eq!(visit.page(&passport, "passport").await, "Passport");
    assert_eq!(
        visit.count("ul.tree li.this").await,
        1,
        "its place in its lineage"
    );
}

async fn the_federation_shows_a_final_epoch_for_each_cell(visit: &Visit<'_>) {
    assert_eq!(
        visit.page("/explorer/federation", "federation").await,
        "Federation"
    );
    let finals = (visit.client)
        .find_all(Locator::Css(
            "#cells tbody tr td a[href^='/explorer/checkpoints/']",
        ))
        .await
        .unwrap();
    assert_eq!(finals.len(), 3, "a final epoch for each of the 3 cells");
    let path = finals[1].attr("href").await.unwrap().expect("a link");
    let checkpoint = visit.follow(finals[1].clone(), &path, "checkpoint").await;
    assert!(
        checkpoint.starts_with("Checkpoint of cell 1"),
        "{checkpoint}"
    );
    assert!(
        visit.count("ul.signers li").await >= 3,
        "its signers, by cell"
    );
}

/// The agents' governance: the list links the process, whose page shows its proposal and
/// history.
async fn governance_shows_the_agents_process(visit: &Visit<'_>, process: u64) {
    let list = visit.page("/explorer/governance", "governance").await;
    assert_eq!(list, "Governance");
    let path = format!("/explorer/governance/{process}");
    let link = (visit.client)
        .find(Locator::Css(&format!("main table a[href='{path}']")))
        .await
        .expect("the list links the process");
    let heading = visit.follow(link, &path, "process").await;
    assert_eq!(heading, format!("Process #{process}"));
    let sections: Vec<String> = section_headings(visit).await;
    for wanted in ["Proposal", "Tallies", "Ballots", "History"] {
        assert!(
            sections.iter().any(|s| s == wanted),
            "{wanted} in {sections:?}"
        );
    }
}

/// The headings of the page's sections.
async fn section_headings(visit: &Visit<'_>) -> Vec<String> {
    let mut headings = Vec::new();
    for heading in visit
        .client
        .find_all(Locator::Css("main section h2"))
        .await
        .unwrap()
    {
        headings.push(heading.text().await.unwrap());
    }
    headings
}

/// Unknown and malformed ids, heights, paths and searches: a "not found" page, status 404.
async fn unknown_pages_say_so(visit: &Visit<'_>, api: &ApiClient) {
    let unknown = "f".repeat(64);
    let search = format!("{}/explorer/search?q={unknown}", visit.base);
    visit.client.goto(&search).await.unwrap();
    // The browser reports the 404 on its console; nothing else may be there.
    assert_eq!(visit.settled("not-found", "404").await, "Not found");
    let zeros = "0".repeat(64);
    let unknown_pages = [
        "/explorer/passports/not-hex".to_string(),
        format!("/explorer/passports/{zeros}"),
        "/explorer/blocks/abc".to_string(),
        "/explorer/blocks?before=-1".to_string(),
        format!("/explorer/blocks/{}", u64::MAX),
        format!("/explorer/transactions/{zeros}"),
        "/explorer/escrows/zz".to_string(),
        "/explorer/checkpoints/x/1".to_string(),
        "/explorer/checkpoints/0/999999".to_string(),
        "/explorer/governance/x".to_string(),
        "/explorer/governance/999999".to_string(),
        "/explorer/governance?before=-1".to_string(),
        "/explorer/no/such/page".to_string(),
        "/explorer/search?q=%00%FF%3Cscript%3E".to_string(),
    ];
    for path in unknown_pages {
        let (status, body) = api.request("GET", &path, b"").unwrap();
        let body = String::from_utf8(body).unwrap();
        assert_eq!(status, 404, "{path}");
        assert!(body.contains("<h1>Not found</h1>"), "{path}: {body}");
        assert!(!body.contains("<script>"), "{path} echoes markup unescaped");
    }
}

/// At a phone's width, nothing is wider than the screen.
async fn pages_fit_a_phone(visit: &Visit<'_>, height: u64) {
    visit.client.set_window_rect(0, 0, 390, 844).await.unwrap();
    let block = format!("/explorer/blocks/{height}");
    for (path, name) in [("/explorer", "cell-phone"), (&block[..], "block-phone")] {
        visit.page(path, name).await;
        let fits = "return document.documentElement.scrollWidth <= window.innerWidth;";
        let answer = visit.client.execute(fits, vec![]).await.unwrap();
        assert_eq!(answer, json!(true), "{name} fits a phone");
    }
}
