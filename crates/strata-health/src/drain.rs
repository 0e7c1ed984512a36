use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Flips readiness to `fail` for a graceful shutdown; returned by
/// [`HealthBuilder::pair`](crate::HealthBuilder::pair).
///
/// Cheap to clone (one `Arc`); every clone and every copy of the layer share
/// the flag. While draining, the readiness endpoint answers 503 with
/// `"output": "draining"` so the load balancer stops sending new requests,
/// while liveness stays `pass` and requests already accepted finish.
///
/// ```
/// use strata_health::HealthLayer;
///
/// # fn main() -> Result<(), strata_core::ConfigError> {
/// let (layer, drain) = HealthLayer::builder().pair()?;
/// assert!(!drain.is_draining());
/// drain.drain(); // on SIGTERM, before stopping the server
/// assert!(drain.is_draining());
/// # drop(layer);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Drain {
    draining: Arc<AtomicBool>,
}

impl Drain {
    pub(crate) fn new() -> Self {
        Self {
            draining: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Starts draining: readiness answers `fail` from now on.
    pub fn drain(&self) {
        if !self.draining.swap(true, Ordering::AcqRel) {
            tracing::info!("draining: readiness now fails");
        }
    }

    /// Stops draining: readiness reflects the checks again.
    pub fn resume(&self) {
        if self.draining.swap(false, Ordering::AcqRel) {
            tracing::info!("drain cancelled: readiness follows the checks again");
        }
    }

    /// Whether the service is draining.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }
}
