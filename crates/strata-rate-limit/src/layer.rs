//! [`RateLimitLayer`] and its builder.

use std::fmt;
use std::sync::Arc;

use http::request::Parts;
use strata_core::ConfigError;
use tower_layer::Layer;

use crate::headers::RuleHeaders;
use crate::rejection::DefaultRejection;
use crate::service::{Backend, PreparedRule, Shared};
use crate::{HeaderStyle, MemoryStore, RateLimit, Tiers};

type PartsFn<T> = Arc<dyn Fn(&Parts) -> T + Send + Sync>;

/// What to do with a request for which the rule finds no key (no peer
/// address recorded, no API-key header, no identity in the extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MissingKey {
    /// Let it through without counting it (logged at `debug`, counted as
    /// `unkeyed` in the metrics). Use tiers to send such requests to a rule
    /// that has a key (for example the IP rule when the header is absent).
    #[default]
    Allow,
    /// Count every such request against one shared key, `missing`.
    Shared,
}

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
    /// [`Rule`](crate::Rule)).
    pub fn builder(tiers: impl Into<Tiers>) -> RateLimitBuilder {
        RateLimitBuilder {
            tiers: tiers.into(),
            backend: Backend::Memory(MemoryStore::new()),
            headers: HeaderStyle::default(),
            dry_run: false,
            skip: None,
            cost: None,
            missing_key: MissingKey::default(),
            on_rejection: DefaultRejection,
            #[cfg(feature = "prometheus")]
            metrics: None,
        }
    }

    /// A layer with every default: [`builder(tiers).build()`](RateLimitBuilder::build).
    pub fn new(tiers: impl Into<Tiers>) -> Result<Self, ConfigError> {
        Self::builder(tiers).build()
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
        RateLimit {
            inner,
            shared: Arc::clone(&self.shared),
            on_rejection: self.on_rejection.clone(),
        }
    }
}

/// Settings of a [`RateLimitLayer`]; every one has a production default.
#[must_use]
pub struct RateLimitBuilder<R = DefaultRejection> {
    tiers: Tiers,
    backend: Backend,
    headers: HeaderStyle,
    dry_run: bool,
    skip: Option<PartsFn<bool>>,
    cost: Option<PartsFn<u32>>,
    missing_key: MissingKey,
    on_rejection: R,
    #[cfg(feature = "prometheus")]
    metrics: Option<crate::RateLimitMetrics>,
}

impl<R> RateLimitBuilder<R> {
    /// Keep state in this in-memory store (default: a new
    /// [`MemoryStore`]). Sharing one store between layers shares their counts.
    pub fn memory(mut self, store: MemoryStore) -> Self {
        self.backend = Backend::Memory(store);
        self
    }

    /// Keep state in Redis, shared by every instance using the same Redis
    /// and key prefix.
    #[cfg(feature = "redis")]
    pub fn redis(mut self, store: crate::RedisStore) -> Self {
        self.backend = Backend::Redis(Arc::new(store));
        self
    }

    /// Which headers responses carry. Default [`HeaderStyle::Draft10`].
    pub fn headers(mut self, style: HeaderStyle) -> Self {
        self.headers = style;
        self
    }

    /// Shadow mode: decide, send headers and count metrics, but never refuse
    /// (a would-be refusal is logged and counted as `shadow_limited`). Not
    /// even a store outage refuses: under [`OnStoreError::FailClosed`] a dry
    /// run lets the request through, without headers, as `FailOpen` would
    /// (the store error is still counted). Default `false`.
    ///
    /// [`OnStoreError::FailClosed`]: crate::OnStoreError::FailClosed
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Requests for which `skip` returns `true` pass without being counted
    /// and without headers (an allow-list: health probes, internal callers).
    pub fn skip_when<F>(mut self, skip: F) -> Self
    where
        F: Fn(&Parts) -> bool + Send + Sync + 'static,
    {
        self.skip = Some(Arc::new(skip));
        self
    }

    /// The cost of each request, in quota units (default 1). A cost above a
    /// policy's burst is always refused; 0 only reads the state.
    pub fn cost<F>(mut self, cost: F) -> Self
    where
        F: Fn(&Parts) -> u32 + Send + Sync + 'static,
    {
        self.cost = Some(Arc::new(cost));
        self
    }

    /// What happens to a request without a key. Default [`MissingKey::Allow`].
    pub fn missing_key(mut self, missing_key: MissingKey) -> Self {
        self.missing_key = missing_key;
        self
    }

    /// Count decisions, store errors and fallbacks in `metrics`.
    #[cfg(feature = "prometheus")]
    pub fn metrics(mut self, metrics: crate::RateLimitMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Builds refusals (429, and 503 when failing closed) with `f` instead
    /// of the default problem+json.
    pub fn on_rejection<F>(self, f: F) -> RateLimitBuilder<F> {
        RateLimitBuilder {
            tiers: self.tiers,
            backend: self.backend,
            headers: self.headers,
            dry_run: self.dry_run,
            skip: self.skip,
            cost: self.cost,
            missing_key: self.missing_key,
            on_rejection: f,
            #[cfg(feature = "prometheus")]
            metrics: self.metrics,
        }
    }

    /// Checks the settings and builds the layer.
    pub fn build(self) -> Result<RateLimitLayer<R>, ConfigError> {
        self.tiers.validate()?;
        match &self.backend {
            Backend::Memory(store) => store.validate()?,
            #[cfg(feature = "redis")]
            Backend::Redis(store) => store.validate()?,
        }
        let policies: Vec<_> = self.tiers.all_policies().collect();
        for (i, policy) in policies.iter().enumerate() {
            let clash = policies[..i]
                .iter()
                .any(|other| other.name() == policy.name() && other.quota() != policy.quota());
            if clash {
                return Err(ConfigError::OutOfRange {
                    name: "policies",
                    reason: "two policies share a name but not a quota",
                });
            }
        }
        let rules = self
            .tiers
            .rules()
            .map(|rule| PreparedRule {
                policies: Arc::clone(rule.shared_policies()),
                headers: RuleHeaders::new(rule.policies()),
                memory: match &self.backend {
                    Backend::Memory(store) => Some(store.prepare(rule.policies())),
                    #[cfg(feature = "redis")]
                    Backend::Redis(_) => None,
                },
            })
            .collect();
        let needs_parts = self.skip.is_some() || self.cost.is_some() || self.tiers.needs_parts();
        Ok(RateLimitLayer {
            shared: Arc::new(Shared {
                needs_parts,
                tiers: self.tiers,
                rules,
                backend: self.backend,
                headers: self.headers,
                dry_run: self.dry_run,
                skip: self.skip,
                cost: self.cost,
                missing_key: self.missing_key,
                #[cfg(feature = "prometheus")]
                metrics: self.metrics,
            }),
            on_rejection: self.on_rejection,
        })
    }
}

impl<R> fmt::Debug for RateLimitBuilder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitBuilder")
            .field("tiers", &self.tiers)
            .field("backend", &self.backend)
            .field("headers", &self.headers)
            .field("dry_run", &self.dry_run)
            .field("missing_key", &self.missing_key)
            .finish_non_exhaustive()
    }
}
