//! What the layer records of a request: its route, its name and the
//! `Request` interface with the sensitive headers scrubbed.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};

use http::header::{self, HeaderName};
use http::{Request, Uri};
use sentry::protocol;

use crate::config::{Settings, UNMATCHED};

/// What replaces a scrubbed header's value.
pub(crate) const FILTERED: &str = "[Filtered]";

/// Headers never sent unless PII is on: credentials, cookies, and the
/// forwarding headers that carry client addresses.
const SCRUBBED: [&str; 11] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-real-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "x-client-ip",
];

/// Whether `name` is scrubbed unless PII is on (also every header sentry
/// itself considers sensitive, such as `X-Api-Key`).
pub fn is_scrubbed(name: &HeaderName) -> bool {
    SCRUBBED.contains(&name.as_str()) || sentry::utils::is_sensitive_header(name.as_str())
}

/// The route template: axum's `MatchedPath`, else the classifier, else
/// [`UNMATCHED`].
pub(crate) fn route<B>(
    settings: &Settings,
    request: Request<B>,
) -> (Cow<'static, str>, Request<B>) {
    #[cfg(feature = "axum")]
    if let Some(path) = request.extensions().get::<axum::extract::MatchedPath>() {
        return (Cow::Owned(path.as_str().to_owned()), request);
    }
    let Some(classifier) = &settings.classifier else {
        warn_unrouted_once();
        return (Cow::Borrowed(UNMATCHED), request);
    };
    let (parts, body) = request.into_parts();
    let route = classifier
        .classify(&parts)
        .unwrap_or(Cow::Borrowed(UNMATCHED));
    (route, Request::from_parts(parts, body))
}

#[cold]
fn warn_unrouted_once() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "strata-sentry: a request carried no route template (no axum MatchedPath, no \
             route_by classifier); its transaction and events are named `METHOD unmatched`. \
             Enable the `axum` feature of strata-sentry and apply the layer with \
             Router::layer, or name routes with SentryBuilder::route_by; logged once"
        );
    }
}

/// The `Request` interface: method, URL without query string or user info,
/// headers with the scrubbed ones replaced by `[Filtered]`; with PII on,
/// every header, the query string and the cookies.
pub(crate) fn interface<B>(request: &Request<B>, pii: bool) -> protocol::Request {
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = if !pii && (value.is_sensitive() || is_scrubbed(name)) {
                FILTERED.to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_owned(), value)
        })
        .collect();
    let cookies = pii
        .then(|| request.headers().get(header::COOKIE))
        .flatten()
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    protocol::Request {
        url: url(request.uri(), request.headers().get(header::HOST)),
        method: Some(request.method().as_str().to_owned()),
        query_string: pii
            .then(|| request.uri().query().map(str::to_owned))
            .flatten(),
        cookies,
        headers,
        ..protocol::Request::default()
    }
}

/// Scheme, host and path; a request without a host header or authority has
/// no URL.
fn url(uri: &Uri, host: Option<&http::HeaderValue>) -> Option<protocol::Url> {
    let scheme = uri.scheme_str().unwrap_or("http");
    let authority = match uri.authority() {
        Some(authority) => authority.as_str(),
        None => host?.to_str().ok()?,
    };
    // Never the user info (`user:password@`).
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{}", uri.path()).parse().ok()
}

/// The incoming `sentry-trace` and `baggage` headers.
pub(crate) fn trace_headers<B>(request: &Request<B>) -> impl Iterator<Item = (&str, &str)> {
    ["sentry-trace", "baggage"].into_iter().filter_map(|name| {
        let value = request.headers().get(name)?.to_str().ok()?;
        Some((name, value))
    })
}
