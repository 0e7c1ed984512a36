//! [`RateLimitLayer`].

use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use crate::config::Shared;
use crate::rejection::DefaultRejection;
use crate::{RateLimit, RateLimitBuilder, Tiers};

/// Applies GCRA rate limits to requests: a [`Tiers`] (or one [`Rule`](crate::Rule))
/// picks each request's key and policies, a store decides.
///
/// Build it with [`builder`](Self::builder); see the [crate docs](crate) for
/// an example.
pub struct RateLimitLayer<R = DefaultRejection> {
    pub(crate) shared: Arc<Shared>,
    pub(crate) on_rejection: R,
}

impl RateLimitLayer {
    /// A builder for a layer enforcing `tiers` (a [`Tiers`] or a single
    /// [`Rule`](crate::Rule)); [`build`](RateLimitBuilder::build) checks
    /// the configuration.
    pub fn builder(tiers: impl Into<Tiers>) -> RateLimitBuilder {
        RateLimitBuilder::new(tiers.into())
    }
}

impl<R: Clone> Clone for RateLimitLayer<R> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            on_rejection: self.on_rejection.clone(),
        }
    }
}

impl<R> fmt::Debug for RateLimitLayer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

impl<S, R: Clone> Layer<S> for RateLimitLayer<R> {
    type Service = RateLimit<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit::new(inner, Arc::clone(&self.shared), self.on_rejection.clone())
    }
}
