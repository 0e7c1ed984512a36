//! The settings of a [`RateLimitLayer`]: its builder, and what the layer
//! and its services share once built.

use std::fmt;
use std::sync::Arc;

use http::request::Parts;
use strata_core::ConfigError;

use crate::headers::RuleHeaders;
use crate::rejection::DefaultRejection;
use crate::{HeaderStyle, MemoryStore, Policy, RateLimitLayer, Tiers};

/// A setting computed from the request head.
pub(crate) type PartsFn<T> = Arc<dyn Fn(&Parts) -> T + Send + Sync>;

/// What to do with a request for which the rule finds no key (no peer
/// address recorded, no API-key header, no identity in the extensions).
///
/// Either way the request is counted in
/// `strata_rate_limit_missing_key_total` (feature `prometheus`), and a
/// [`KeyBy::client_ip`](crate::KeyBy::client_ip) rule that finds no client
/// address (a server that records no peer address) logs a `warn`, once per
/// process, naming the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MissingKey {
    /// Let it through without counting it against any quota. Use tiers to
    /// send such requests to a rule that has a key (for example the IP rule
    /// when the header is absent).
    #[default]
    Allow,
    /// Count every such request against one shared key, `missing`.
    Shared,
}

/// Where the layer keeps its state.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Memory(MemoryStore),
    #[cfg(feature = "redis")]
    Redis(Arc<crate::RedisStore>),
}

/// A rule with what can be computed before the first request.
#[derive(Debug)]
pub(crate) struct PreparedRule {
    pub(crate) policies: Arc<[Policy]>,
    pub(crate) headers: RuleHeaders,
    pub(crate) memory: Option<crate::store::memory::Prepared>,
    /// Its policies' names joined with `+`: the `rule` label of the
    /// missing-key counter.
    #[cfg(feature = "prometheus")]
    pub(crate) label: Box<str>,
    /// The rule keys by client address: finding no key means the server
    /// recorded no peer address (a deployment problem, logged).
    pub(crate) by_client_ip: bool,
}

/// The layer's settings, shared by every clone of the service.
pub(crate) struct Shared {
    pub(crate) tiers: Tiers,
    pub(crate) rules: Vec<PreparedRule>,
    pub(crate) backend: Backend,
    pub(crate) headers: HeaderStyle,
    pub(crate) dry_run: bool,
    pub(crate) skip: Option<PartsFn<bool>>,
    pub(crate) cost: Option<PartsFn<u32>>,
    pub(crate) missing_key: MissingKey,
    /// Some setting takes the request's [`Parts`].
    pub(crate) needs_parts: bool,
    #[cfg(feature = "prometheus")]
    pub(crate) metrics: Option<crate::RateLimitMetrics>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("tiers", &self.tiers)
            .field("backend", &self.backend)
            .field("headers", &self.headers)
            .field("dry_run", &self.dry_run)
            .field("missing_key", &self.missing_key)
            .finish_non_exhaustive()
    }
}

/// Settings of a [`RateLimitLayer`]; every one has a production default.
/// Made by [`RateLimitLayer::builder`]; [`build`](Self::build) checks them.
///
/// Configuration errors are [`ConfigError`]s naming the setting: the
/// method of the value that holds it, `Type::method`
/// (`"Quota::burst"`, `"Policy::new"`, `"KeyBy::ipv6_prefix"`, `"Rule::and"`,
/// `"MemoryStore::max_keys"`, `"RedisStore::timeout"`...), or
/// [`ConfigError::Duplicate`] for a name given twice (`what` is `"policy"`
/// or `"tier"`).
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

impl RateLimitBuilder {
    pub(crate) fn new(tiers: Tiers) -> Self {
        Self {
            tiers,
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

    /// Count decisions, missing keys, store errors and fallbacks in
    /// `metrics` (one [`RateLimitMetrics`](crate::RateLimitMetrics) may
    /// serve several layers).
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

    /// Checks the settings and builds the layer; the error names the first
    /// invalid setting (see the [type docs](Self)).
    pub fn build(self) -> Result<RateLimitLayer<R>, ConfigError> {
        self.tiers.validate()?;
        match &self.backend {
            Backend::Memory(store) => store.validate()?,
            #[cfg(feature = "redis")]
            Backend::Redis(store) => store.validate()?,
        }
        // One name, one quota, across the layer's rules (a store keeps one
        // state per policy).
        let policies: Vec<_> = self.tiers.all_policies().collect();
        for (i, policy) in policies.iter().enumerate() {
            let clash = policies[..i]
                .iter()
                .any(|other| other.name() == policy.name() && other.quota() != policy.quota());
            if clash {
                return Err(ConfigError::duplicate("policy", policy.name()));
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
                #[cfg(feature = "prometheus")]
                label: rule
                    .policies()
                    .iter()
                    .map(Policy::name)
                    .collect::<Vec<_>>()
                    .join("+")
                    .into(),
                by_client_ip: rule.key_by().is_client_ip(),
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
