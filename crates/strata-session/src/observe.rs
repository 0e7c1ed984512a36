//! Counting and timing: events, store calls bounded by the timeout.

use futures_util::FutureExt as _;
use std::future::Future;
use std::time::Duration;

use crate::store::StoreError;

/// Something the layer counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    Created,
    Rotated,
    SignedOut,
    Revoked,
    Expired,
    BadCookie,
    CrossSiteRefused,
    Unavailable,
    WriteRefused,
}

impl Event {
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Rotated => "rotated",
            Self::SignedOut => "signed_out",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::BadCookie => "bad_cookie",
            Self::CrossSiteRefused => "cross_site_refused",
            Self::Unavailable => "unavailable",
            Self::WriteRefused => "write_refused",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Observer {
    #[cfg(feature = "prometheus")]
    metrics: Option<crate::SessionMetrics>,
}

impl Observer {
    pub(crate) fn new(
        #[cfg(feature = "prometheus")] metrics: Option<crate::SessionMetrics>,
    ) -> Self {
        Self {
            #[cfg(feature = "prometheus")]
            metrics,
        }
    }

    pub(crate) fn event(&self, event: Event) {
        #[cfg(feature = "prometheus")]
        if let Some(metrics) = &self.metrics {
            metrics.event(event);
        }
        #[cfg(not(feature = "prometheus"))]
        let _ = event;
    }

    /// Runs a store call bounded by `timeout`, timed and counted.
    pub(crate) async fn call<T>(
        &self,
        op: &'static str,
        timeout: Duration,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.run(op, Some(timeout), call).await
    }

    /// Runs a store call the store bounds itself (within the layer's
    /// timeout, see [`Store::load_bound`](crate::Store::load_bound)): timed
    /// and counted, with no second timer.
    pub(crate) async fn call_self_bounded<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.run(op, None, call).await
    }

    async fn run<T>(
        &self,
        op: &'static str,
        timeout: Option<Duration>,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        #[cfg(feature = "prometheus")]
        let started = std::time::Instant::now();
        let result = match timeout {
            Some(timeout) => bounded(timeout, call).await,
            None => call.await,
        };
        #[cfg(feature = "prometheus")]
        if let Some(metrics) = &self.metrics {
            metrics.store_call(op, started.elapsed(), result.is_err());
        }
        if let Err(error) = &result {
            tracing::warn!(op, %error, "session store call failed");
        }
        result
    }
}

/// `call` within `timeout`. A call that answers at once (the memory store)
/// sets no timer: the timer starts when it first has to wait.
async fn bounded<T>(
    timeout: Duration,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let mut call = std::pin::pin!(call);
    if let Some(result) = call.as_mut().now_or_never() {
        return result;
    }
    match tokio::time::timeout(timeout, call).await {
        Ok(result) => result,
        Err(_) => Err(StoreError::Timeout),
    }
}
