//! The fields a proxy must not pass on (RFC 9110 §7.6.1) and the ones it adds.

use std::net::IpAddr;

use axum::http::Version;
use axum::http::header::{
    CONNECTION, HeaderMap, HeaderName, HeaderValue, PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, TE,
    TRAILER, TRANSFER_ENCODING, UPGRADE, VIA,
};

/// The `Via` pseudonym of this proxy.
const PSEUDONYM: &str = "strata-cache-proxy";

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Connection-specific fields, never forwarded in either direction.
const HOP_BY_HOP: [HeaderName; 9] = [
    CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    PROXY_AUTHENTICATE,
    PROXY_AUTHORIZATION,
    TE,
    TRAILER,
    TRANSFER_ENCODING,
    UPGRADE,
];

/// Removes the hop-by-hop fields and every field `Connection` names.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect();
    for name in named.iter().chain(&HOP_BY_HOP) {
        headers.remove(name);
    }
}

/// Appends the client to `X-Forwarded-For`, sets `X-Forwarded-Proto: http`
/// (the protocol this proxy was reached by) and appends to `Via`.
pub(crate) fn add_forwarding(headers: &mut HeaderMap, client: Option<IpAddr>, version: Version) {
    if let Some(ip) = client {
        let prior: Vec<&str> = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        let chain = if prior.is_empty() {
            ip.to_string()
        } else {
            format!("{}, {ip}", prior.join(", "))
        };
        if let Ok(value) = HeaderValue::from_str(&chain) {
            headers.insert(X_FORWARDED_FOR, value);
        }
    }
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    append_via(headers, version);
}

/// Appends this proxy to `Via` for a message received with `version`.
pub(crate) fn append_via(headers: &mut HeaderMap, version: Version) {
    let protocol = match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "1.1",
    };
    if let Ok(value) = HeaderValue::from_str(&format!("{protocol} {PSEUDONYM}")) {
        headers.append(VIA, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(fields: &[(&'static str, &'static str)]) -> HeaderMap {
        fields
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn strips_hop_by_hop_and_connection_named_fields() {
        let mut map = headers(&[
            ("connection", "keep-alive, X-Secret"),
            ("connection", "x-other"),
            ("keep-alive", "timeout=5"),
            ("x-secret", "1"),
            ("x-other", "2"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("proxy-authorization", "Basic Zm9vOmJhcg=="),
            ("etag", "\"v1\""),
            ("date", "Tue, 01 Dec 2026 10:00:00 GMT"),
        ]);
        strip_hop_by_hop(&mut map);
        let left: Vec<&str> = map.keys().map(HeaderName::as_str).collect();
        assert_eq!(left, ["etag", "date"]);
    }

    #[test]
    fn appends_the_client_and_this_hop() {
        let mut map = headers(&[("x-forwarded-for", "203.0.113.7"), ("via", "1.1 edge")]);
        add_forwarding(&mut map, Some(IpAddr::from([10, 0, 0, 2])), Version::HTTP_2);
        assert_eq!(map["x-forwarded-for"], "203.0.113.7, 10.0.0.2");
        assert_eq!(map["x-forwarded-proto"], "http");
        let via: Vec<_> = map.get_all("via").iter().collect();
        assert_eq!(via, ["1.1 edge", "2 strata-cache-proxy"]);
        let mut map = HeaderMap::new();
        add_forwarding(
            &mut map,
            Some(IpAddr::from([127, 0, 0, 1])),
            Version::HTTP_11,
        );
        assert_eq!(map["x-forwarded-for"], "127.0.0.1");
        assert_eq!(map["via"], "1.1 strata-cache-proxy");
    }
}
