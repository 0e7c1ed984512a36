//! Counting and logging what the layer does, and bounding store calls.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::FutureExt as _;

use crate::StoreError;
use crate::config::Shared;

impl Shared {
    /// `call`, bounded by the store timeout. A call that answers at once
    /// (the memory store) sets no timer: the timer starts when the call
    /// first has to wait.
    pub(crate) async fn timed<T>(
        &self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let mut call = std::pin::pin!(call);
        if let Some(result) = call.as_mut().now_or_never() {
            return result;
        }
        match tokio::time::timeout(self.store_timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Timeout(self.store_timeout)),
        }
    }

    /// A lookup outcome: `hit`, `miss`, `stale`, `revalidated`,
    /// `collapsed`, `bypass`.
    pub(crate) fn count(&self, outcome: &'static str) {
        #[cfg(feature = "prometheus")]
        if let Some(m) = &self.metrics {
            m.lookup(outcome);
        }
        let _ = outcome;
    }

    pub(crate) fn count_bypass(&self, reason: &'static str) {
        self.count("bypass");
        #[cfg(feature = "prometheus")]
        if let Some(m) = &self.metrics {
            m.bypass(reason);
        }
        let _ = reason;
    }

    /// A store call failed: counted; logged at `warn` once per outage.
    pub(crate) fn store_failed(&self, error: &StoreError) {
        #[cfg(feature = "prometheus")]
        if let Some(m) = &self.metrics {
            m.store_error();
        }
        if !self.store_down.swap(true, Ordering::Relaxed) {
            tracing::warn!(%error, "cache store unavailable: requests go to the origin until it answers");
        }
    }

    pub(crate) fn store_ok(&self) {
        if self.store_down.swap(false, Ordering::Relaxed) {
            tracing::info!("cache store answers again");
        }
    }

    pub(crate) fn stored_bytes(&self, bytes: usize) {
        #[cfg(feature = "prometheus")]
        if let Some(m) = &self.metrics {
            m.stored(bytes);
        }
        let _ = bytes;
    }

    pub(crate) fn origin_duration(&self, duration: Duration) {
        #[cfg(feature = "prometheus")]
        if let Some(m) = &self.metrics {
            m.origin(duration);
        }
        let _ = duration;
    }
}
