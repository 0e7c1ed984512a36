//! Header rules: `Vary`, the ETag scheme, `Cache-Control: no-transform`.

use http::header::{CACHE_CONTROL, ETAG, IF_MATCH, IF_NONE_MATCH, VARY};
use http::{HeaderMap, HeaderValue};
use strata_core::headers::list;

use crate::codec::Encoding;
use crate::etag::{self, Element};

/// Appends `Vary: Accept-Encoding` unless a `Vary` already names it (or `*`).
pub(crate) fn vary_accept_encoding(headers: &mut HeaderMap) {
    let present = headers.get_all(VARY).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            list(value).any(|name| name == "*" || name.eq_ignore_ascii_case("accept-encoding"))
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
            list(value).any(|directive| directive.eq_ignore_ascii_case("no-transform"))
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

/// Rewrites `If-None-Match` and `If-Match` entity-tags naming the `encoding`
/// variant (`"tag-br"`, weak or strong) back to the inner service's tag
/// (`"tag"`), so the handler's own comparison works. Returns whether any tag
/// was rewritten, that is, whether the client holds the compressed variant.
///
/// Values are read with the entity-tag grammar ([`crate::etag`]): a tag may
/// contain commas. A value that does not parse, or `*`, is left as it is, so
/// the handler sees what the client sent and nothing malformed turns into a
/// match.
pub(crate) fn strip_variant_validators(headers: &mut HeaderMap, encoding: Encoding) -> bool {
    let suffix = format!("-{}", encoding.as_str());
    let mut stripped = false;
    for name in [IF_NONE_MATCH, IF_MATCH] {
        if !headers.contains_key(&name) {
            continue;
        }
        let mut rewritten = Vec::new();
        let mut changed = false;
        for value in headers.get_all(&name) {
            let bytes = value.as_bytes();
            let Some(mut elements) = etag::parse(bytes) else {
                rewritten.push(value.clone());
                continue;
            };
            let mut here = false;
            for element in &mut elements {
                if let Element::Tag { opaque, .. } = element
                    && let Some(base) = opaque.strip_suffix(suffix.as_bytes())
                {
                    *opaque = base;
                    here = true;
                }
            }
            let new = if here {
                HeaderValue::from_bytes(&etag::render(&elements, bytes.len())).ok()
            } else {
                None
            };
            match new {
                Some(new) => {
                    changed = true;
                    rewritten.push(new);
                }
                None => rewritten.push(value.clone()),
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
    fn validators_are_read_as_entity_tags_not_split_on_commas() {
        // (If-None-Match sent, rewritten while negotiating gzip or None).
        let cases: &[(&str, Option<&str>)] = &[
            ("\"a,b-gzip\"", Some("\"a,b\"")),
            ("\"x\", \"a,b-gzip\"", Some("\"x\", \"a,b\"")),
            ("W/\"a,b-gzip\",\"c-gzip\"", Some("W/\"a,b\", \"c\"")),
            ("\"-gzip\"", Some("\"\"")),
            ("\"a,-gzip\"", Some("\"a,\"")),
            // A comma inside a tag does not end it: this tag names no variant.
            ("\"a-gzip,b\"", None),
            ("\"a-br\", \"b\"", None),
            ("*", None),
            // Junk: the whole value is left alone.
            ("\"a-gzip\", junk", None),
            ("\"a-gzip\" \"b\"", None),
            ("\"a-gzip", None),
            ("\"a-gzip\", *", None),
        ];
        for (sent, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(IF_NONE_MATCH, HeaderValue::from_static(sent));
            headers.insert(IF_MATCH, HeaderValue::from_static(sent));
            let stripped = strip_variant_validators(&mut headers, Encoding::Gzip);
            assert_eq!(stripped, expected.is_some(), "{sent:?}");
            let now = expected.unwrap_or(sent);
            assert_eq!(headers[IF_NONE_MATCH], now, "{sent:?}");
            assert_eq!(headers[IF_MATCH], now, "{sent:?}");
        }

        // Every field line is read on its own; untouched lines are kept.
        let mut headers = HeaderMap::new();
        headers.append(IF_NONE_MATCH, HeaderValue::from_static("junk"));
        headers.append(IF_NONE_MATCH, HeaderValue::from_static("\"p,q-gzip\""));
        assert!(strip_variant_validators(&mut headers, Encoding::Gzip));
        let values: Vec<_> = headers.get_all(IF_NONE_MATCH).iter().collect();
        assert_eq!(values, ["junk", "\"p,q\""]);
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
