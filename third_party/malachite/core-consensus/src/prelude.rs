pub use async_recursion::async_recursion;
pub use tracing::{debug, error, info, warn};

pub use malachitebft_core_driver::Input as DriverInput;
pub use malachitebft_core_types::*;

pub use crate::effect::{Effect, Resume};
pub use crate::error::Error;
pub use crate::gen::Co;
pub use crate::input::Input;
pub use crate::perform;
pub use crate::state::State;

#[cfg(feature = "metrics")]
pub use malachitebft_metrics::Metrics;

#[cfg(not(feature = "metrics"))]
pub type Metrics = ();
