//! Building responses: hits from stored entries, `304`s, `504`s, and the
//! headers every response leaving the cache gets.

use http::header::{AGE, CONTENT_LENGTH, HeaderValue};
use http::{HeaderMap, Method, Response, StatusCode};

use crate::Entry;
use crate::body::CacheBody;
use crate::conditional::{not_modified, not_modified_headers};
use crate::config::Shared;
use crate::status::Status;

/// `Cache-Status` is appended (one member per cache, origin side first),
/// the tag header removed.
pub(crate) fn finish<B>(
    shared: &Shared,
    mut response: Response<B>,
    status: &Status,
) -> Response<B> {
    let headers = response.headers_mut();
    headers.remove(&shared.tag_header);
    headers.append(
        crate::CACHE_STATUS,
        crate::status::rendered(status, &shared.name),
    );
    response
}

/// A response served from `entry`: `304` when the request's conditionals
/// hold, no body for `HEAD`, `Age` always.
pub(crate) fn from_entry<B>(
    shared: &Shared,
    entry: Entry,
    request: &HeaderMap,
    method: &Method,
    age_ms: u64,
    status: &Status,
) -> Response<CacheBody<B>> {
    let age = HeaderValue::from(age_ms / 1000);
    let mut response = if entry.status.is_success() && not_modified(request, &entry.headers) {
        let mut r = Response::new(CacheBody::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        *r.headers_mut() = not_modified_headers(&entry.headers);
        r
    } else {
        let len = entry.body.len();
        let body = if method == Method::HEAD {
            CacheBody::empty()
        } else {
            CacheBody::full(entry.body)
        };
        let mut r = Response::new(body);
        *r.status_mut() = entry.status;
        *r.headers_mut() = entry.headers;
        if !r.headers().contains_key(CONTENT_LENGTH) {
            r.headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
        r
    };
    response.headers_mut().insert(AGE, age);
    finish(shared, response, status)
}

/// `504 Gateway Timeout` for `only-if-cached` with nothing that fits.
pub(crate) fn only_if_cached<B>(shared: &Shared, status: &Status) -> Response<CacheBody<B>> {
    let mut r = Response::new(CacheBody::empty());
    *r.status_mut() = StatusCode::GATEWAY_TIMEOUT;
    r.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(0));
    finish(shared, r, status)
}

/// Remaining freshness in whole seconds (negative once stale), such that
/// the `Age` sent plus `ttl` is the freshness lifetime.
pub(crate) fn ttl_seconds(lifetime_ms: u64, age_ms: u64) -> i64 {
    let secs = |ms: u64| i64::try_from(ms / 1000).unwrap_or(i64::MAX);
    secs(lifetime_ms) - secs(age_ms)
}
