//! Validators: weak `ETag` comparison, answering a client's conditional
//! request from the store (RFC 9110 §13, RFC 9111 §4.3.2), and freshening
//! stored headers from a `304` (RFC 9111 §4.3.4).

use http::header::{
    CACHE_CONTROL, CONTENT_LENGTH, CONTENT_LOCATION, DATE, ETAG, EXPIRES, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED, VARY,
};
use http::{HeaderMap, HeaderName};
use strata_core::headers::list;

/// Validators longer than this are ignored (never compared).
pub(crate) const MAX_VALIDATOR_LEN: usize = 1024;

fn opaque(tag: &str) -> &str {
    tag.trim().strip_prefix("W/").unwrap_or(tag.trim())
}

/// Weak comparison of two entity tags (RFC 9110 §8.8.3.2).
pub(crate) fn weak_match(a: &str, b: &str) -> bool {
    let (a, b) = (opaque(a), opaque(b));
    a.len() >= 2 && a.starts_with('"') && a.ends_with('"') && a == b
}

/// Whether a client's `If-None-Match` / `If-Modified-Since` is satisfied
/// by the stored headers, so the answer is `304`.
pub(crate) fn not_modified(request: &HeaderMap, stored: &HeaderMap) -> bool {
    let inm: Vec<&str> = request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.len() <= MAX_VALIDATOR_LEN)
        .collect();
    if request.contains_key(IF_NONE_MATCH) {
        let Some(etag) = stored.get(ETAG).and_then(|v| v.to_str().ok()) else {
            return inm.iter().flat_map(|v| list(v)).any(|t| t == "*");
        };
        return inm
            .iter()
            .flat_map(|v| list(v))
            .any(|t| t == "*" || weak_match(t, etag));
    }
    let Some(since) = request
        .get(IF_MODIFIED_SINCE)
        .and_then(|v| httpdate::parse_http_date(v.to_str().ok()?).ok())
    else {
        return false;
    };
    let modified = stored
        .get(LAST_MODIFIED)
        .or_else(|| stored.get(DATE))
        .and_then(|v| httpdate::parse_http_date(v.to_str().ok()?).ok());
    modified.is_some_and(|m| m <= since)
}

/// The headers of a `304` built from a stored response (RFC 9110 §15.4.5).
pub(crate) fn not_modified_headers(stored: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in [
        CACHE_CONTROL,
        CONTENT_LOCATION,
        DATE,
        ETAG,
        EXPIRES,
        VARY,
        LAST_MODIFIED,
    ] {
        for value in stored.get_all(&name) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// The validators to revalidate a stored response with.
pub(crate) fn validators(stored: &HeaderMap) -> Vec<(HeaderName, http::HeaderValue)> {
    let mut out = Vec::new();
    if let Some(etag) = stored.get(ETAG).filter(|v| v.len() <= MAX_VALIDATOR_LEN) {
        out.push((IF_NONE_MATCH, etag.clone()));
    }
    if let Some(lm) = stored
        .get(LAST_MODIFIED)
        .filter(|v| v.len() <= MAX_VALIDATOR_LEN)
    {
        out.push((IF_MODIFIED_SINCE, lm.clone()));
    }
    out
}

/// Replaces stored fields with those of a `304` (`fresh`), except
/// `Content-Length` (RFC 9111 §3.2, §4.3.4); `fresh` is already stripped
/// of what is never stored.
pub(crate) fn freshen(stored: &mut HeaderMap, fresh: &HeaderMap) {
    for name in fresh.keys() {
        if name == CONTENT_LENGTH {
            continue;
        }
        stored.remove(name);
        for value in fresh.get_all(name) {
            stored.append(name.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(*n, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn etags_compare_weakly() {
        assert!(weak_match("\"a\"", "W/\"a\""));
        assert!(weak_match("W/\"a\"", "W/\"a\""));
        assert!(!weak_match("\"a\"", "\"b\""));
        assert!(
            !weak_match("a", "a"),
            "an unquoted tag is not an entity tag"
        );
    }

    #[test]
    fn client_conditionals_are_answered_from_stored_validators() {
        let stored = h(&[
            ("etag", "W/\"v1\""),
            ("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ]);
        assert!(not_modified(
            &h(&[("if-none-match", "\"x\", \"v1\"")]),
            &stored
        ));
        assert!(not_modified(&h(&[("if-none-match", "*")]), &stored));
        assert!(!not_modified(&h(&[("if-none-match", "\"v2\"")]), &stored));
        // If-None-Match wins over If-Modified-Since.
        assert!(!not_modified(
            &h(&[
                ("if-none-match", "\"v2\""),
                ("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT")
            ]),
            &stored
        ));
        assert!(not_modified(
            &h(&[("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT")]),
            &stored
        ));
        assert!(!not_modified(
            &h(&[("if-modified-since", "Sat, 05 Nov 1994 08:49:37 GMT")]),
            &stored
        ));
        assert!(!not_modified(&h(&[("if-modified-since", "junk")]), &stored));
        let huge = format!("\"{}\"", "v".repeat(5000));
        assert!(!not_modified(
            &h(&[("if-none-match", &huge)]),
            &h(&[("etag", &huge)])
        ));
    }

    #[test]
    fn a_304_freshens_every_field_but_content_length() {
        let mut stored = h(&[
            ("cache-control", "max-age=1"),
            ("content-length", "5"),
            ("x-a", "1"),
        ]);
        freshen(
            &mut stored,
            &h(&[("cache-control", "max-age=60"), ("content-length", "0")]),
        );
        assert_eq!(stored["cache-control"], "max-age=60");
        assert_eq!(stored["content-length"], "5");
        assert_eq!(stored["x-a"], "1");
    }
}
