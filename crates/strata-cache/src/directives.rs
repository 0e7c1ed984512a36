//! `Cache-Control` directives of responses and requests (RFC 9111 §5.2,
//! RFC 5861), read tolerantly: unknown directives are ignored, and a
//! directive given twice or with a value that does not parse takes the
//! conservative reading (the shorter lifetime, no stale allowance).

use http::HeaderMap;
use http::header::CACHE_CONTROL;
use strata_core::headers::list;

/// delta-seconds above this are read as this (RFC 9111 §1.2.2).
const MAX_DELTA: u64 = 2_147_483_648;

/// A directive value: absent, present with a usable number, or present
/// with junk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Seconds {
    #[default]
    Absent,
    Value(u64),
    Invalid,
}

impl Seconds {
    /// Combines a repeated directive: the smallest value; junk wins.
    fn merge(self, value: Option<&str>) -> Self {
        let parsed = value
            .and_then(parse_delta)
            .map_or(Self::Invalid, Self::Value);
        match (self, parsed) {
            (Self::Invalid, _) | (_, Self::Invalid) => Self::Invalid,
            (Self::Value(a), Self::Value(b)) => Self::Value(a.min(b)),
            (Self::Absent, other) => other,
            (other, Self::Absent) => other,
        }
    }

    /// As a lifetime: junk reads as 0 (already stale).
    fn lifetime(self) -> Option<u64> {
        match self {
            Self::Absent => None,
            Self::Value(v) => Some(v),
            Self::Invalid => Some(0),
        }
    }

    /// As an allowance: junk reads as none.
    fn allowance(self) -> Option<u64> {
        match self {
            Self::Value(v) => Some(v),
            _ => None,
        }
    }
}

fn parse_delta(value: &str) -> Option<u64> {
    let value = value.trim().trim_matches('"');
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(value.parse::<u64>().unwrap_or(MAX_DELTA).min(MAX_DELTA))
}

/// Every `name[=value]` directive of every `Cache-Control` line.
fn directives(headers: &HeaderMap) -> impl Iterator<Item = (&str, Option<&str>)> {
    headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(list)
        .map(|item| match item.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim())),
            None => (item.trim(), None),
        })
}

/// Directive names compare without case, without allocating.
fn lower(name: &str, known: &[&'static str]) -> Option<&'static str> {
    known.iter().copied().find(|k| k.eq_ignore_ascii_case(name))
}

const RESPONSE: [&str; 10] = [
    "no-store",
    "no-cache",
    "private",
    "public",
    "must-revalidate",
    "proxy-revalidate",
    "max-age",
    "s-maxage",
    "stale-while-revalidate",
    "stale-if-error",
];

const REQUEST: [&str; 7] = [
    "no-store",
    "no-cache",
    "only-if-cached",
    "max-age",
    "min-fresh",
    "max-stale",
    "stale-if-error",
];

/// The field names of a qualified `private="a, b"` / `no-cache="a"`.
fn field_names(value: &str) -> Vec<String> {
    value
        .trim_matches('"')
        .split(',')
        .map(|f| f.trim().to_ascii_lowercase())
        .filter(|f| !f.is_empty())
        .collect()
}

/// A response's `Cache-Control`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ResponseDirectives {
    pub(crate) no_store: bool,
    /// Unqualified `no-cache`, or a qualified one (read as unqualified:
    /// always revalidate).
    pub(crate) no_cache: bool,
    /// Unqualified `private`: not stored by a shared cache.
    pub(crate) private: bool,
    /// `private="f1, f2"`: stored without those fields.
    pub(crate) private_fields: Vec<String>,
    pub(crate) public: bool,
    pub(crate) must_revalidate: bool,
    pub(crate) proxy_revalidate: bool,
    max_age: Seconds,
    s_maxage: Seconds,
    swr: Seconds,
    sie: Seconds,
}

impl ResponseDirectives {
    pub(crate) fn parse(headers: &HeaderMap) -> Self {
        let mut d = Self::default();
        for (name, value) in directives(headers) {
            match lower(name, &RESPONSE).unwrap_or("") {
                "no-store" => d.no_store = true,
                "no-cache" => d.no_cache = true,
                "private" => match value.map(field_names) {
                    Some(fields) if !fields.is_empty() => d.private_fields.extend(fields),
                    _ => d.private = true,
                },
                "public" => d.public = true,
                "must-revalidate" => d.must_revalidate = true,
                "proxy-revalidate" => d.proxy_revalidate = true,
                "max-age" => d.max_age = d.max_age.merge(value),
                "s-maxage" => d.s_maxage = d.s_maxage.merge(value),
                "stale-while-revalidate" => d.swr = d.swr.merge(value),
                "stale-if-error" => d.sie = d.sie.merge(value),
                _ => {}
            }
        }
        d
    }

    /// `max-age` in seconds (junk: 0).
    pub(crate) fn max_age(&self) -> Option<u64> {
        self.max_age.lifetime()
    }

    /// `s-maxage` in seconds (junk: 0).
    pub(crate) fn s_maxage(&self) -> Option<u64> {
        self.s_maxage.lifetime()
    }

    /// `s-maxage` is present (even with junk): it marks the response
    /// shareable and forbids serving it stale.
    pub(crate) fn has_s_maxage(&self) -> bool {
        self.s_maxage != Seconds::Absent
    }

    /// Whether any directive forbids serving this response stale
    /// (RFC 9111 §4.2.4 for a shared cache).
    pub(crate) fn forbids_stale(&self) -> bool {
        self.must_revalidate || self.proxy_revalidate || self.has_s_maxage() || self.no_cache
    }

    /// `stale-while-revalidate` seconds, when serving stale is allowed.
    pub(crate) fn stale_while_revalidate(&self) -> Option<u64> {
        self.swr.allowance().filter(|_| !self.forbids_stale())
    }

    /// `stale-if-error` seconds, when serving stale is allowed.
    pub(crate) fn stale_if_error(&self) -> Option<u64> {
        self.sie.allowance().filter(|_| !self.forbids_stale())
    }

    /// The response marks itself shareable (`public` or `s-maxage`).
    pub(crate) fn shareable(&self) -> bool {
        self.public || self.has_s_maxage()
    }
}

/// A request's `Cache-Control`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RequestDirectives {
    pub(crate) no_store: bool,
    pub(crate) no_cache: bool,
    pub(crate) only_if_cached: bool,
    max_age: Seconds,
    min_fresh: Seconds,
    /// `max-stale` without a value: any staleness.
    max_stale_any: bool,
    max_stale: Seconds,
    sie: Seconds,
}

impl RequestDirectives {
    pub(crate) fn parse(headers: &HeaderMap) -> Self {
        let mut d = Self::default();
        for (name, value) in directives(headers) {
            match lower(name, &REQUEST).unwrap_or("") {
                "no-store" => d.no_store = true,
                "no-cache" => d.no_cache = true,
                "only-if-cached" => d.only_if_cached = true,
                "max-age" => d.max_age = d.max_age.merge(value),
                "min-fresh" => d.min_fresh = d.min_fresh.merge(value),
                "max-stale" => match value {
                    None => d.max_stale_any = true,
                    some => d.max_stale = d.max_stale.merge(some),
                },
                "stale-if-error" => d.sie = d.sie.merge(value),
                _ => {}
            }
        }
        // Junk max-age from a client: 0, so the client gets a validated
        // response (the conservative reading).
        d
    }

    /// The oldest response the client accepts, in seconds.
    pub(crate) fn max_age(&self) -> Option<u64> {
        self.max_age.lifetime()
    }

    /// Freshness the response must still have, in seconds (junk: none).
    pub(crate) fn min_fresh(&self) -> u64 {
        self.min_fresh.allowance().unwrap_or(0)
    }

    /// Staleness the client accepts: `None` none, `Some(u64::MAX)` any.
    /// Junk, or a `max-stale` repeated with and without a value, reads as
    /// the smaller allowance.
    pub(crate) fn max_stale(&self) -> Option<u64> {
        match (self.max_stale_any, self.max_stale) {
            (_, Seconds::Invalid) => None,
            (_, Seconds::Value(v)) => Some(v),
            (true, Seconds::Absent) => Some(u64::MAX),
            (false, Seconds::Absent) => None,
        }
    }

    /// The request's own `stale-if-error` allowance.
    pub(crate) fn stale_if_error(&self) -> Option<u64> {
        self.sie.allowance()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for line in lines {
            h.append(CACHE_CONTROL, HeaderValue::from_str(line).expect("header"));
        }
        h
    }

    #[test]
    fn response_directives_are_read_across_lines() {
        let d = ResponseDirectives::parse(&headers(&[
            "public, Max-Age=60",
            "s-maxage=\"120\", stale-while-revalidate=30",
        ]));
        assert!(d.public && d.shareable());
        assert_eq!(d.max_age(), Some(60));
        assert_eq!(d.s_maxage(), Some(120));
        // s-maxage forbids stale for a shared cache.
        assert_eq!(d.stale_while_revalidate(), None);
    }

    #[test]
    fn repeated_or_junk_lifetimes_take_the_conservative_reading() {
        let d = ResponseDirectives::parse(&headers(&["max-age=600, max-age=60"]));
        assert_eq!(d.max_age(), Some(60));
        let d = ResponseDirectives::parse(&headers(&["max-age=abc"]));
        assert_eq!(d.max_age(), Some(0));
        let d = ResponseDirectives::parse(&headers(&["max-age=-5, stale-if-error=x"]));
        assert_eq!(d.max_age(), Some(0));
        assert_eq!(d.stale_if_error(), None);
        let d = ResponseDirectives::parse(&headers(&["max-age=99999999999999999999999"]));
        assert_eq!(d.max_age(), Some(MAX_DELTA));
    }

    #[test]
    fn junk_is_tolerated() {
        let d = ResponseDirectives::parse(&headers(&[",,;;=, =x, \"quoted, no-store\", max-age"]));
        assert!(
            !d.no_store,
            "a quoted string is one element, not a directive"
        );
        assert_eq!(d.max_age(), Some(0), "max-age without a value is junk");
        let mut h = HeaderMap::new();
        h.append(
            CACHE_CONTROL,
            HeaderValue::from_bytes(b"no-store\xff").expect("opaque"),
        );
        assert_eq!(ResponseDirectives::parse(&h), ResponseDirectives::default());
    }

    #[test]
    fn stale_allowances_yield_to_directives_that_forbid_stale() {
        let base = "max-age=1, stale-while-revalidate=10, stale-if-error=20";
        let d = ResponseDirectives::parse(&headers(&[base]));
        assert_eq!(d.stale_while_revalidate(), Some(10));
        assert_eq!(d.stale_if_error(), Some(20));
        for forbid in [
            "must-revalidate",
            "proxy-revalidate",
            "s-maxage=5",
            "no-cache",
        ] {
            let d = ResponseDirectives::parse(&headers(&[base, forbid]));
            assert_eq!(d.stale_while_revalidate(), None, "{forbid}");
            assert_eq!(d.stale_if_error(), None, "{forbid}");
        }
    }

    #[test]
    fn qualified_private_names_fields_and_unqualified_private_refuses() {
        let d = ResponseDirectives::parse(&headers(&["private=\"Set-Cookie, x-user\""]));
        assert!(!d.private);
        assert_eq!(d.private_fields, ["set-cookie", "x-user"]);
        let d = ResponseDirectives::parse(&headers(&["private"]));
        assert!(d.private);
        let d = ResponseDirectives::parse(&headers(&["no-cache=\"set-cookie\""]));
        assert!(d.no_cache, "qualified no-cache is read as unqualified");
    }

    #[test]
    fn request_directives() {
        let d = RequestDirectives::parse(&headers(&[
            "no-cache, max-age=5, min-fresh=2, only-if-cached, stale-if-error=9",
        ]));
        assert!(d.no_cache && d.only_if_cached && !d.no_store);
        assert_eq!(
            (d.max_age(), d.min_fresh(), d.stale_if_error()),
            (Some(5), 2, Some(9))
        );
        assert_eq!(
            RequestDirectives::parse(&headers(&["max-stale"])).max_stale(),
            Some(u64::MAX)
        );
        assert_eq!(
            RequestDirectives::parse(&headers(&["max-stale=7"])).max_stale(),
            Some(7)
        );
        assert_eq!(
            RequestDirectives::parse(&headers(&["max-stale, max-stale=3"])).max_stale(),
            Some(3)
        );
        assert_eq!(
            RequestDirectives::parse(&headers(&["max-stale=x"])).max_stale(),
            None
        );
        assert_eq!(
            RequestDirectives::parse(&headers(&["max-age=x"])).max_age(),
            Some(0)
        );
        assert_eq!(
            RequestDirectives::parse(&headers(&["min-fresh=x"])).min_fresh(),
            0
        );
    }
}
