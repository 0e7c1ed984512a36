//! The whole-stack benchmark's server: `GET /small` and `GET /large`
//! through every strata layer, through the peer crates, or through one
//! layer alone (see [`modes::MODES`]), for `benches/stack/run` to measure
//! with wrk and for `stack-server --allocs` to count allocations.
//! `docs/performance.md` says how to run it and read it.

pub mod allocs;
pub mod body;
mod handlers;
pub mod modes;
mod peer_stack;
pub mod request;
mod strata_stack;

use http::HeaderMap;

/// Any error of setting a mode up or driving it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Whether `headers` are those of a strata cache hit (`Cache-Status:
/// strata; hit`).
pub fn is_strata_hit(headers: &HeaderMap) -> bool {
    headers
        .get("cache-status")
        .is_some_and(|v| v.as_bytes().starts_with(b"strata; hit"))
}
