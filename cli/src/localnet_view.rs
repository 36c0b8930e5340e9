//! What `charter localnet` shows of its validators: each one's height read from its own API,
//! `down` while it does not answer (killed, say, or not yet back), and its catch-up progress
//! after it returns, whether or not the localnet started that process.

use charter_client::ApiClient;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often each validator's status is read.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// A validator that takes longer than this to answer is shown down.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// One validator as its API last answered.
#[derive(Clone, Debug, PartialEq)]
pub enum ValidatorView {
    /// Not answered yet (starting).
    Unknown,
    /// Its API does not answer.
    Down,
    InStep {
        height: u64,
        state_root: String,
    },
    CatchingUp {
        height: u64,
        target: u64,
        blocks_per_second: f64,
        seconds_left: Option<f64>,
    },
}

impl ValidatorView {
    /// Reads a `/v1/status` answer.
    pub fn from_status(status: &Value) -> Option<Self> {
        let height = status["height"].as_u64()?;
        let catch_up = &status["catch_up"];
        if catch_up.is_null() {
            let state_root = status["state_root"].as_str()?.to_string();
            return Some(Self::InStep { height, state_root });
        }
        Some(Self::CatchingUp {
            height,
            target: catch_up["target"].as_u64()?,
            blocks_per_second: catch_up["blocks_per_second"].as_f64()?,
            seconds_left: catch_up["seconds_left"].as_f64(),
        })
    }

    pub fn height(&self) -> Option<u64> {
        match self {
            Self::InStep { height, .. } | Self::CatchingUp { height, .. } => Some(*height),
            Self::Unknown | Self::Down => None,
        }
    }

    /// What changes the line's meaning, so a change is printed at once.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Down => "down",
            Self::InStep { .. } => "in step",
            Self::CatchingUp { .. } => "catching up",
        }
    }

    /// `"212"`, `"down"`, `"57→212 (40/s, 4 s left)"`, or `"-"` before the first answer.
    pub fn describe(&self) -> String {
        match self {
            Self::Unknown => "-".to_string(),
            Self::Down => "down".to_string(),
            Self::InStep { height, .. } => height.to_string(),
            Self::CatchingUp {
                height,
                target,
                blocks_per_second,
                seconds_left,
            } => {
                let left = seconds_left.map_or("…".to_string(), |left| format!("{left:.0} s"));
                format!("{height}→{target} ({blocks_per_second:.0}/s, {left} left)")
            }
        }
    }
}

/// Every validator's latest view, kept fresh by one thread per validator until `stop`.
pub struct ValidatorViews {
    views: Arc<Mutex<Vec<ValidatorView>>>,
}

impl ValidatorViews {
    pub fn watch(apis: &[String], stop: Arc<AtomicBool>) -> anyhow::Result<Self> {
        let views = Arc::new(Mutex::new(vec![ValidatorView::Unknown; apis.len()]));
        for (index, api) in apis.iter().enumerate() {
            let client = ApiClient::new(api)?.with_timeout(ANSWER_WITHIN);
            let (views, stop) = (Arc::clone(&views), Arc::clone(&stop));
            std::thread::spawn(move || {
                // A validator whose API has not answered yet is starting, not down.
                let mut answered = false;
                while !stop.load(Ordering::SeqCst) {
                    let view = (client.get("/v1/status").ok())
                        .and_then(|status| ValidatorView::from_status(&status));
                    answered |= view.is_some();
                    lock(&views)[index] = match view {
                        Some(view) => view,
                        None if answered => ValidatorView::Down,
                        None => ValidatorView::Unknown,
                    };
                    std::thread::sleep(POLL_EVERY);
                }
            });
        }
        Ok(Self { views })
    }

    pub fn now(&self) -> Vec<ValidatorView> {
        lock(&self.views).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_status_reads_as_in_step_or_catching_up() {
        let in_step = json!({ "height": 12, "state_root": "ab", "catch_up": null });
        assert_eq!(
            ValidatorView::from_status(&in_step).map(|view| view.describe()),
            Some("12".to_string())
        );
        let behind = json!({
            "height": 57,
            "state_root": "ab",
            "catch_up": { "height": 57, "target": 212, "blocks_per_second": 40.2, "seconds_left": 3.9 },
        });
        assert_eq!(
            ValidatorView::from_status(&behind).map(|view| view.describe()),
            Some("57→212 (40/s, 4 s left)".to_string())
        );
        assert_eq!(
            ValidatorView::from_status(&json!({ "error": "internal" })),
            None
        );
    }
}
