//! Header rules: `Vary`, the ETag scheme, `Cache-Control: no-transform`.

use http::header::{CACHE_CONTROL, ETAG, IF_MATCH, IF_NONE_MATCH, VARY};
use http::{HeaderMap, HeaderValue};

use crate::codec::Encoding;

/// Appends `Vary: Accept-Encoding` unless a `Vary` already names it (or `*`).
pub(crate) fn vary_accept_encoding(headers: &mut HeaderMap) {
    let present = headers.get_all(VARY).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value
                .split(',')
                .map(str::trim)
                .any(|name| name == "*" || name.eq_ignore_ascii_case("accept-encoding"))
        })
    });
    if !present {
        headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// Whether `Cache-Control` carries `no-transform`.
pub(crate) fn no_transform(headers: &HeaderMap) -> bool {
    headers.get_all(CACHE_CONTROL).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value
                .split(',')
                .any(|directive| directive.trim().eq_ignore_ascii_case("no-transform"))
        })
    })
}

/// The ETag of the compressed variant: a strong `"tag"` becomes
/// `"tag-<coding>"`; weak ETags stay as they are (weak comparison already
/// treats the variants as equivalent).
pub(crate) fn variant_etag(headers: &mut HeaderMap, encoding: Encoding) {
    let Some(etag) = headers.get(ETAG).and_then(|value| value.to_str().ok()) else {
        return;
    };
    let Some(opaque) = etag
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&format!("\"{opaque}-{}\"", encoding.as_str())) {
        headers.insert(ETAG, value);
    }
}

/// Rewrites `If-None-Match` and `If-Match` entries naming the `encoding`
/// variant (`"tag-br"`) back to the inner service's tag (`"tag"`), so the
/// handler's own comparison works. Returns whether any entry was rewritten,
/// that is, whether the client holds the compressed variant.
pub(crate) fn strip_variant_validators(headers: &mut HeaderMap, encoding: Encoding) -> bool {
    let suffix = format!("-{}\"", encoding.as_str());
    let mut stripped = false;
    for name in [IF_NONE_MATCH, IF_MATCH] {
        if !headers.contains_key(&name) {
            continue;
        }
        let mut rewritten = Vec::new();
        let mut changed = false;
        for value in headers.get_all(&name) {
            let Ok(text) = value.to_str() else {
                rewritten.push(value.clone());
                continue;
            };
            let entries: Vec<String> = text
                .split(',')
                .map(|entry| {
                    let entry = entry.trim();
                    match entry.strip_suffix(suffix.as_str()) {
                        Some(base) if entry.len() > suffix.len() && base.contains('"') => {
                            changed = true;
                            format!("{base}\"")
                        }
                        _ => entry.to_owned(),
                    }
                })
                .collect();
            match HeaderValue::from_str(&entries.join(", ")) {
                Ok(value) => rewritten.push(value),
                Err(_) => rewritten.push(value.clone()),
            }
        }
        if changed {
            stripped = true;
            headers.remove(&name);
            for value in rewritten {
                headers.append(name.clone(), value);
            }
        }
    }
    stripped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vary_is_appended_once() {
        let mut headers = HeaderMap::new();
        headers.append(VARY, HeaderValue::from_static("origin"));
        vary_accept_encoding(&mut headers);
        vary_accept_encoding(&mut headers);
        let values: Vec<_> = headers.get_all(VARY).iter().collect();
        assert_eq!(values, ["origin", "accept-encoding"]);

        let mut headers = HeaderMap::new();
        headers.append(VARY, HeaderValue::from_static("Origin, Accept-Encoding"));
        vary_accept_encoding(&mut headers);
        assert_eq!(headers.get_all(VARY).iter().count(), 1);
    }

    #[test]
    fn strong_etags_get_a_coding_suffix_weak_ones_do_not() {
        let mut headers = HeaderMap::new();
        headers.insert(ETAG, HeaderValue::from_static("\"v1\""));
        variant_etag(&mut headers, Encoding::Br);
        assert_eq!(headers[ETAG], "\"v1-br\"");

        headers.insert(ETAG, HeaderValue::from_static("W/\"v1\""));
        variant_etag(&mut headers, Encoding::Br);
        assert_eq!(headers[ETAG], "W/\"v1\"");
    }

    #[test]
    fn validators_for_the_negotiated_variant_are_stripped() {
        let mut headers = HeaderMap::new();
        headers.insert(
            IF_NONE_MATCH,
            HeaderValue::from_static("\"a-gzip\", \"b-br\", W/\"c-gzip\""),
        );
        assert!(strip_variant_validators(&mut headers, Encoding::Gzip));
        assert_eq!(headers[IF_NONE_MATCH], "\"a\", \"b-br\", W/\"c\"");

        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, HeaderValue::from_static("\"a\""));
        assert!(!strip_variant_validators(&mut headers, Encoding::Gzip));
        assert_eq!(headers[IF_NONE_MATCH], "\"a\"");
    }

    #[test]
    fn no_transform_is_found_among_directives() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, No-Transform"),
        );
        assert!(no_transform(&headers));
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        );
        assert!(!no_transform(&headers));
    }
}
