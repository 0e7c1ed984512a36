//! RFC 9111 §4.4: invalidation after unsafe requests.

use http::header::{CONTENT_LOCATION, LOCATION};

use crate::CacheKey;
use crate::config::Shared;

/// RFC 9111 §4.4: a successful unsafe request invalidates its target and
/// the same-origin `Location` and `Content-Location`.
pub(crate) fn invalidated(key: &CacheKey, headers: &http::HeaderMap) -> Vec<CacheKey> {
    let mut keys = vec![key.clone()];
    for name in [LOCATION, CONTENT_LOCATION] {
        if let Some(other) = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| key.same_origin(r))
        {
            keys.push(other);
        }
    }
    keys
}

pub(crate) async fn invalidate(shared: &Shared, keys: Vec<CacheKey>) {
    for key in &keys {
        shared
            .flights
            .clear_hit_for_miss(&format!("{}:", key.digest()));
        if let Err(error) = shared.timed(shared.store.purge(key)).await {
            shared.store_failed(&error);
        }
    }
}
