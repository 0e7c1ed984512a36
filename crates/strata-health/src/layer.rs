use std::sync::Arc;
use std::time::Duration;

use tower_layer::Layer;

use crate::state::Shared;
use strata_core::guard::AccessGuard;

use crate::{Drain, Health, HealthBuilder};

/// Default timeout of one check run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
/// Default time a check result is served from the cache.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5);
/// Default for [`HealthBuilder::failure_ttl`](crate::HealthBuilder::failure_ttl).
pub const DEFAULT_FAILURE_TTL: Duration = Duration::from_secs(1);
/// Default interval of the background refresh.
pub const DEFAULT_REFRESH_EVERY: Duration = Duration::from_secs(30);

/// Answers health probes in front of a service; built by [`HealthBuilder`].
///
/// Requests to the health routes (`GET` or `HEAD`) are answered by the layer
/// in `application/health+json`; any other method there gets 405; every
/// other request goes to the inner service untouched. Cloning is cheap and
/// all clones share checks, cached results and the [`Drain`] flag.
///
/// Works with any inner service whose response body can be built from
/// [`Bytes`](bytes::Bytes) (axum's `Body`, `http_body_util::Full<Bytes>`...);
/// the request body is ignored on health routes. `poll_ready` is the inner
/// service's, and the error type is the inner service's: probes never fail
/// as errors, they answer 503.
///
/// See the [crate docs](crate) for an example.
#[derive(Debug, Clone)]
pub struct HealthLayer {
    pub(crate) shared: Arc<Shared>,
    pub(crate) guard: Option<Arc<AccessGuard>>,
}

impl HealthLayer {
    /// A builder with the defaults: the routes `/health`, `/health/live`,
    /// `/health/ready` and `/health/detailed`, no checks.
    pub fn builder() -> HealthBuilder {
        HealthBuilder::new()
    }

    /// A handle that drains this layer's readiness.
    pub fn drain_handle(&self) -> Drain {
        self.shared.drain.clone()
    }
}

impl<S> Layer<S> for HealthLayer {
    type Service = Health<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Health {
            inner,
            shared: Arc::clone(&self.shared),
            guard: self.guard.clone(),
        }
    }
}
