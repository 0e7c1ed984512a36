//! Rate-limit tiers (per minute): anonymous clients 60 per IP, signed-in users
//! 300 per user, the `admin` user 1000. Shared by every instance through Redis
//! when `REDIS_URL` is set; `/metrics` and `/health/*` are never limited.
//!
//! `POST /api/login` also has its own limit, 5 per minute per client IP, on
//! that route only: a request to it counts against both.

use axum::http::request::Parts;
use strata::core::redis::fred::clients::Pool;
use strata::metrics::prometheus::Registry;
use strata::rate_limit::{
    Key, KeyBy, MemoryClock, MemoryStore, Policy, Quota, RateLimitLayer, RateLimitMetrics,
    RedisStore, Rule, Tiers,
};
use strata::session::Session;

use crate::app::BoxError;

/// The signed-in user of the request's session: the session layer loaded
/// it, so reading it costs no store call. Without one a client is
/// anonymous and limited per IP.
fn signed_in(parts: &Parts) -> Option<String> {
    parts.extensions.get::<Session>()?.user()
}

/// Probes and scrapes must never be refused.
fn never_limited(parts: &Parts) -> bool {
    let path = parts.uri.path();
    path == "/metrics" || path == "/health" || path.starts_with("/health/")
}

/// An in-memory store (or a Redis store's fallback) on `clock`.
fn memory(clock: MemoryClock) -> MemoryStore {
    MemoryStore::new().clock(clock)
}

/// The counters every rate-limit layer of the application shares: they can
/// be registered only once into `registry`.
pub(crate) fn metrics(registry: &Registry) -> Result<RateLimitMetrics, BoxError> {
    Ok(RateLimitMetrics::register(registry)?)
}

/// The tiers' policies and the login policy, by name (for the admin
/// endpoints).
pub(crate) fn policies() -> [(Policy, bool); 4] {
    [
        (Policy::new("anonymous", Quota::per_minute(60)), false),
        (Policy::new("user", Quota::per_minute(300)), false),
        (Policy::new("admin", Quota::per_minute(1000)), false),
        (Policy::new("login", Quota::per_minute(5)), true),
    ]
}

/// The memory stores of the two layers (they hold the state without Redis),
/// shared with the admin endpoints.
#[derive(Debug, Clone)]
pub(crate) struct Stores {
    pub(crate) clock: MemoryClock,
    pub(crate) tiers: MemoryStore,
    pub(crate) login: MemoryStore,
}

impl Stores {
    pub(crate) fn new(clock: MemoryClock) -> Self {
        Self {
            clock,
            tiers: memory(clock),
            login: memory(clock),
        }
    }
}

/// The tiers in one layer; Redis-backed (falling back to memory while Redis is
/// unreachable) when a pool is given.
pub(crate) fn layer(
    redis: Option<&Pool>,
    stores: &Stores,
    metrics: &RateLimitMetrics,
) -> Result<RateLimitLayer, BoxError> {
    let clock = stores.clock;
    let by_user = || KeyBy::from_fn(|parts| Some(Key::new(format!("user:{}", signed_in(parts)?))));
    let tiers = Tiers::new(Rule::new(
        KeyBy::client_ip(),
        Policy::new("anonymous", Quota::per_minute(60)),
    ))
    .tier(
        "user",
        Rule::new(by_user(), Policy::new("user", Quota::per_minute(300))),
    )
    .tier(
        "admin",
        Rule::new(by_user(), Policy::new("admin", Quota::per_minute(1000))),
    )
    .select(|parts: &Parts| {
        let user = signed_in(parts)?;
        Some(if user == crate::account::ADMIN {
            "admin"
        } else {
            "user"
        })
    });
    let mut builder = RateLimitLayer::builder(tiers)
        .memory(stores.tiers.clone())
        .skip_when(never_limited)
        .metrics(metrics.clone());
    if let Some(pool) = redis {
        builder = builder.redis(
            RedisStore::new(pool.clone())
                .prefix("strata:rl:")
                .fallback(memory(clock)),
        );
    }
    Ok(builder.build()?)
}

/// The limit of `POST /api/login`: 5 per minute per client IP (policy
/// `login`), for that route only. Redis-backed like the tiers when a pool is
/// given, under its own key prefix.
pub(crate) fn login(
    redis: Option<&Pool>,
    stores: &Stores,
    metrics: &RateLimitMetrics,
) -> Result<RateLimitLayer, BoxError> {
    let clock = stores.clock;
    let rule = Rule::new(
        KeyBy::client_ip(),
        Policy::new("login", Quota::per_minute(5)),
    );
    let mut builder = RateLimitLayer::builder(rule)
        .memory(stores.login.clone())
        .metrics(metrics.clone());
    if let Some(pool) = redis {
        builder = builder.redis(
            RedisStore::new(pool.clone())
                .prefix("strata:rl:login:")
                .fallback(memory(clock)),
        );
    }
    Ok(builder.build()?)
}
