//! Every mode the server runs: its name, what it measures, its router.

use axum::Router;
use strata_rate_limit::HeaderStyle;

use crate::handlers::{self, Recorded};
use crate::request::Route;
use crate::{BoxError, body, peer_stack, strata_stack};

/// One mode of the server.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    /// Its name on the command line.
    pub name: &'static str,
    /// What it serves, in one line.
    pub about: &'static str,
}

macro_rules! modes {
    ($($name:literal => $about:literal,)*) => {
        /// Every mode, in the order `--list` prints them.
        pub const MODES: &[Mode] = &[$(Mode { name: $name, about: $about },)*];
    };
}

modes! {
    "bare" => "the handlers only",
    "bare-headers" => "the handlers writing strata's answer (headers and body bytes) as static values",
    "strata" => "every strata layer in the recommended order, collectors in one registry",
    "peer" => "the peer crates in the same order",
    "strata-clientip" => "ResolveClientIpLayer alone",
    "strata-sentry" => "strata-sentry alone (no DSN)",
    "peer-sentry" => "sentry-tower's NewSentryLayer + SentryHttpLayer with transactions (no DSN)",
    "strata-metrics" => "strata-metrics alone",
    "peer-metrics" => "axum-prometheus alone",
    "strata-recorder" => "strata-recorder, memory store, keeping 5xx, slow and 1 %",
    "strata-headers" => "strata-security-headers, strict preset (nonce CSP)",
    "peer-headers" => "helmet's 12 headers, one tower-http SetResponseHeaderLayer each",
    "strata-health" => "strata-health alone (its paths unused)",
    "strata-session" => "strata-session, memory store",
    "peer-session" => "tower-sessions, memory store",
    "strata-ratelimit" => "strata-rate-limit per client IP, memory, draft-10 headers",
    "peer-ratelimit" => "tower_governor per peer IP, same quota, its headers",
    "strata-ratelimit-noheaders" => "strata-rate-limit without headers",
    "peer-ratelimit-noheaders" => "tower_governor without headers",
    "strata-cache" => "strata-cache, memory store",
    "peer-cache" => "http-cache-tower-server, moka manager",
    "strata-compression" => "strata-compression, default levels",
    "strata-cache-compression" => "strata-cache over strata-compression: stored compressed variants",
    "peer-compression" => "tower-http compression, default levels",
}

/// The mode named `name`, if there is one.
pub fn find(name: &str) -> Option<Mode> {
    MODES.iter().copied().find(|mode| mode.name == name)
}

/// The router of mode `name`: `GET /small` and `GET /large` through the
/// mode's layers.
pub async fn app(name: &str) -> Result<Router, BoxError> {
    let routes = handlers::router(body::large());
    let none = None;
    Ok(match name {
        "bare" => routes,
        "bare-headers" => {
            let strata = strata_stack::full(routes)?;
            let small = Recorded::take(&strata, Route::Small).await?;
            let large = recorded_hit(&strata).await?;
            handlers::recorded_router(small, large)
        }
        "strata" => strata_stack::full(routes)?,
        "peer" => peer_stack::full(routes)?,
        "strata-clientip" => routes.layer(strata_stack::client_ip()),
        "strata-sentry" => routes.layer(strata_stack::sentry()?),
        "peer-sentry" => peer_stack::sentry(routes),
        "strata-metrics" => routes.layer(strata_stack::metrics()?.0),
        "peer-metrics" => routes.layer(peer_stack::metrics()),
        "strata-recorder" => routes.layer(
            tower::ServiceBuilder::new()
                .layer(strata_stack::recorder(none)?)
                .map_request(strata_stack::axum_body),
        ),
        "strata-headers" => routes.layer(strata_stack::headers()),
        "peer-headers" => peer_stack::headers(routes),
        "strata-health" => routes.layer(strata_stack::health(none)?),
        "strata-session" => routes.layer(strata_stack::session(none)?),
        "peer-session" => routes.layer(peer_stack::session()),
        "strata-ratelimit" => routes.layer(strata_stack::rate_limit(HeaderStyle::Draft10, none)?),
        "peer-ratelimit" => peer_stack::rate_limit(routes, true)?,
        "strata-ratelimit-noheaders" => {
            routes.layer(strata_stack::rate_limit(HeaderStyle::None, none)?)
        }
        "peer-ratelimit-noheaders" => peer_stack::rate_limit(routes, false)?,
        "strata-cache" => routes.layer(strata_stack::cache(none)?),
        "peer-cache" => peer_stack::cache(routes),
        "strata-compression" => routes.layer(strata_stack::compression(none)?),
        "strata-cache-compression" => routes.layer(
            tower::ServiceBuilder::new()
                .layer(strata_stack::cache(none)?)
                .layer(strata_stack::compression(none)?),
        ),
        "peer-compression" => routes.layer(peer_stack::compression()),
        other => return Err(format!("no mode {other:?} (see --list)").into()),
    })
}

/// The strata stack's answer to `GET /large` once the cache serves it:
/// what the benchmark measures.
async fn recorded_hit(strata: &Router) -> Result<Recorded, BoxError> {
    for _ in 0..100 {
        let recorded = Recorded::take(strata, Route::Large).await?;
        if crate::is_strata_hit(recorded.headers()) {
            return Ok(recorded);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Err("the strata cache never served GET /large from the cache".into())
}
