//! Label values of the HTTP server metrics and how a request maps to them.

use std::borrow::Cow;
use std::fmt;

use http::request::Parts;
use http::{Extensions, Method};
use strata_core::Scheme;

/// The `http_request_method` values: the nine RFC 9110/5789 methods, and
/// `_OTHER` for any other method (OpenTelemetry's rule, so a client sending
/// made-up methods cannot create series).
pub(crate) const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER",
];

/// Index into [`METHODS`].
pub(crate) fn method_index(method: &Method) -> u8 {
    // Standard methods compare as an enum tag, without touching strings.
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::CONNECT,
        Method::OPTIONS,
        Method::TRACE,
        Method::PATCH,
    ];
    KNOWN
        .iter()
        .position(|known| known == method)
        .map_or(9, |index| index as u8)
}

/// The `url_scheme` values.
pub(crate) const SCHEMES: [&str; 2] = ["http", "https"];

/// Index into [`SCHEMES`]: the [`Scheme`] of the connection (a TLS acceptor
/// inserts it) or of a trusted proxy (a `ResolveClientIpLayer` stores it),
/// else `http`. Never the request target's scheme: the client writes it
/// (`GET https://host/ HTTP/1.1`, HTTP/2 `:scheme`).
pub(crate) fn scheme_index(extensions: &Extensions) -> u8 {
    u8::from(
        extensions
            .get::<Scheme>()
            .is_some_and(|scheme| scheme.is_https()),
    )
}

/// Names a request's route when axum's `MatchedPath` does not (a hyper
/// service, a `nest_service`, the fallback).
///
/// Return a **template** (`/users/{id}`), never the raw path: every distinct
/// value is a new series. `None` gives the layer's unmatched value. Closures
/// `Fn(&http::request::Parts) -> Option<Cow<'static, str>>` implement it.
///
/// ```
/// use std::borrow::Cow;
/// use strata_metrics::MetricsLayer;
///
/// let builder = MetricsLayer::builder().route_by(|parts: &http::request::Parts| {
///     let path = parts.uri.path();
///     if path.starts_with("/static/") {
///         Some(Cow::Borrowed("/static/{*file}"))
///     } else {
///         None
///     }
/// });
/// # let _ = builder;
/// ```
pub trait RouteClassifier: Send + Sync + 'static {
    /// The route template of a request, or `None` for unmatched.
    fn classify(&self, parts: &Parts) -> Option<Cow<'static, str>>;
}

impl<F> RouteClassifier for F
where
    F: Fn(&Parts) -> Option<Cow<'static, str>> + Send + Sync + 'static,
{
    fn classify(&self, parts: &Parts) -> Option<Cow<'static, str>> {
        self(parts)
    }
}

/// A request's `http_route` value, held until the request completes.
#[derive(Clone)]
pub(crate) enum Route {
    /// A string that lives as long as the program (the unmatched value,
    /// classifier constants).
    Static(&'static str),
    /// axum's matched route: an `Arc<str>` owned by the router, so its
    /// address is stable for as long as the route exists.
    #[cfg(feature = "axum")]
    Matched(axum::extract::MatchedPath),
    /// A string a classifier built for this request.
    Owned(Box<str>),
}

impl Route {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Static(s) => s,
            #[cfg(feature = "axum")]
            Self::Matched(path) => path.as_str(),
            Self::Owned(s) => s,
        }
    }

    /// Whether the string's address identifies it across requests. Owned
    /// strings are freed after the request, and their address reused.
    pub(crate) fn is_stable(&self) -> bool {
        !matches!(self, Self::Owned(_))
    }

    pub(crate) fn from_cow(route: Cow<'static, str>) -> Self {
        match route {
            Cow::Borrowed(s) => Self::Static(s),
            Cow::Owned(s) => Self::Owned(s.into_boxed_str()),
        }
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// How a request ended, for `error_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A response whose body was sent (or dropped by the client): no
    /// `error_type` unless the status is 5xx.
    Response(u16),
    /// A response whose body failed while streaming: `error_type="_OTHER"`.
    BodyError(u16),
    /// The inner service returned an error: no status, `error_type="_OTHER"`.
    ServiceError,
    /// The request was dropped before a response existed (the client hung
    /// up): no status, no `error_type`.
    Cancelled,
}

impl Outcome {
    /// The non-route labels packed into one integer, one value per distinct
    /// label set: method (4 bits), scheme (1 bit), outcome kind (2 bits) and
    /// the status code (16 bits).
    pub(crate) fn pack(self, method: u8, scheme: u8) -> u32 {
        let (kind, status) = match self {
            Self::Response(status) => (0, status),
            Self::BodyError(status) => (1, status),
            Self::ServiceError => (2, 0),
            Self::Cancelled => (3, 0),
        };
        u32::from(method) << 24 | u32::from(scheme) << 20 | kind << 16 | u32::from(status)
    }
}

/// The label pairs of a series, from its packed key and route.
pub(crate) fn label_pairs(packed: u32, route: &str) -> Vec<(&'static str, String)> {
    let method = METHODS[((packed >> 24) & 0xf) as usize % METHODS.len()];
    let scheme = SCHEMES[((packed >> 20) & 0x1) as usize];
    let kind = (packed >> 16) & 0x3;
    let status = packed & 0xffff;
    let mut pairs = vec![
        ("http_request_method", method.to_owned()),
        ("http_route", route.to_owned()),
        ("url_scheme", scheme.to_owned()),
    ];
    if kind <= 1 {
        pairs.push(("http_response_status_code", status.to_string()));
    }
    match kind {
        0 if status >= 500 => pairs.push(("error_type", status.to_string())),
        1 | 2 => pairs.push(("error_type", "_OTHER".to_owned())),
        _ => {}
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_map_to_other() {
        assert_eq!(METHODS[method_index(&Method::GET) as usize], "GET");
        assert_eq!(METHODS[method_index(&Method::PATCH) as usize], "PATCH");
        let custom = Method::from_bytes(b"PROPFIND").expect("valid method");
        assert_eq!(METHODS[method_index(&custom) as usize], "_OTHER");
    }

    #[test]
    fn packing_is_one_to_one() {
        let outcomes = [
            Outcome::Response(200),
            Outcome::Response(503),
            Outcome::BodyError(200),
            Outcome::ServiceError,
            Outcome::Cancelled,
        ];
        let mut seen = std::collections::HashSet::new();
        for method in 0..10 {
            for scheme in 0..2 {
                for outcome in outcomes {
                    assert!(seen.insert(outcome.pack(method, scheme)));
                }
            }
        }
    }

    #[test]
    fn error_type_only_on_failures() {
        let ok = label_pairs(Outcome::Response(404).pack(0, 0), "/a");
        assert!(ok.iter().all(|(name, _)| *name != "error_type"));
        let failed = label_pairs(Outcome::Response(502).pack(0, 1), "/a");
        assert!(failed.contains(&("error_type", "502".to_owned())));
        assert!(failed.contains(&("url_scheme", "https".to_owned())));
        let service = label_pairs(Outcome::ServiceError.pack(9, 0), "/a");
        assert!(service.contains(&("error_type", "_OTHER".to_owned())));
        assert!(service.contains(&("http_request_method", "_OTHER".to_owned())));
        assert!(
            service
                .iter()
                .all(|(name, _)| *name != "http_response_status_code")
        );
    }
}
