//! Sessions: in Redis when `REDIS_URL` is set (shared by every instance),
//! otherwise in memory; `Secure` `__Host-sid` cookies in production.

use std::time::Duration;

use strata::core::redis::fred::clients::Pool;
use strata::health::check_fn;
use strata::metrics::prometheus::Registry;
use strata::session::{MemoryStore, RedisStore, SessionAdmin, SessionLayer, SessionMetrics};

use crate::app::BoxError;
use crate::config::{AppEnv, Config};

/// The session layer and its admin handle.
pub(crate) fn layer(
    config: &Config,
    redis: Option<&Pool>,
    registry: &Registry,
) -> Result<(SessionLayer, SessionAdmin), BoxError> {
    let production = config.env == AppEnv::Production;
    let builder = match redis {
        Some(pool) => {
            SessionLayer::builder(RedisStore::new(pool.clone()).prefix("strata:session:"))
        }
        None => SessionLayer::builder(MemoryStore::new()),
    };
    Ok(builder
        // Plain-HTTP development needs a cookie the browser sends back
        // over http://; production is HTTPS behind the proxy.
        .secure(production)
        .idle_timeout(Duration::from_secs(2 * 3600))
        .absolute_lifetime(Duration::from_secs(24 * 3600))
        .store_timeout(Duration::from_millis(500))
        .clock(config.session_clock)
        .metrics(SessionMetrics::register(registry)?)
        .pair()?)
}

/// A non-critical health check: the session store answers.
pub(crate) fn check(admin: &SessionAdmin) -> impl strata::health::Check + use<> {
    let admin = admin.clone();
    check_fn(move || {
        let admin = admin.clone();
        async move { admin.ping().await }
    })
}
