use std::net::{IpAddr, SocketAddr};

use http::{HeaderValue, Request};

use super::*;

const TRUSTED: &str = "10.0.0.0/8, 127.0.0.1, 2001:db8:ffff::/48";

fn resolver(header: ForwardedHeader) -> ClientIpResolver {
    ClientIpResolver::new()
        .trusted_proxies(TRUSTED.parse().expect("valid list"))
        .header(header)
}

fn request(peer: Option<&str>, headers: &[(&str, &[u8])]) -> Request<()> {
    let mut request = Request::new(());
    for (name, value) in headers {
        let value = HeaderValue::from_bytes(value).expect("valid header bytes");
        request.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            value,
        );
    }
    if let Some(peer) = peer {
        let addr: SocketAddr = peer.parse().expect("valid peer");
        request.extensions_mut().insert(addr);
    }
    request
}

const XFF: &str = "x-forwarded-for";
const FWD: &str = "forwarded";

/// (case, header mode, peer, headers, expected client, expected source)
type Case = (
    &'static str,
    ForwardedHeader,
    &'static str,
    &'static [(&'static str, &'static [u8])],
    &'static str,
    IpSource,
);

const X: ForwardedHeader = ForwardedHeader::XForwardedFor;
const F: ForwardedHeader = ForwardedHeader::Forwarded;
const PEER: IpSource = IpSource::Peer;
const VIA_XFF: IpSource = IpSource::XForwardedFor;
const VIA_FWD: IpSource = IpSource::Forwarded;
const UNRES: IpSource = IpSource::Unresolved;
/// The address of an unresolved client.
const NONE: &str = "0.0.0.0";

#[rustfmt::skip]
const CASES: &[Case] = &[
    ("untrusted peer, no header", X, "198.51.100.1:1", &[], "198.51.100.1", PEER),
    ("untrusted peer spoofs XFF", X, "198.51.100.1:1", &[(XFF, b"1.2.3.4")], "198.51.100.1", PEER),
    ("untrusted peer spoofs Forwarded", F, "198.51.100.1:1", &[(FWD, b"for=1.2.3.4")], "198.51.100.1", PEER),
    ("trusted peer, no header", X, "10.0.0.1:1", &[], "10.0.0.1", PEER),
    ("trusted peer, one hop", X, "10.0.0.1:1", &[(XFF, b"203.0.113.1")], "203.0.113.1", VIA_XFF),
    ("spoofed left entry is skipped", X, "10.0.0.1:1", &[(XFF, b"6.6.6.6, 203.0.113.2")], "203.0.113.2", VIA_XFF),
    ("chain of trusted proxies", X, "10.0.0.1:1", &[(XFF, b"6.6.6.6, 203.0.113.3, 10.0.0.7, 10.0.0.5")], "203.0.113.3", VIA_XFF),
    ("every hop trusted: leftmost", X, "10.0.0.1:1", &[(XFF, b"10.0.0.9, 10.0.0.5")], "10.0.0.9", VIA_XFF),
    ("junk left of the client is never read", X, "10.0.0.1:1", &[(XFF, b"<script>, 203.0.113.4")], "203.0.113.4", VIA_XFF),
    ("ipv4 with port", X, "10.0.0.1:1", &[(XFF, b"203.0.113.5:4711")], "203.0.113.5", VIA_XFF),
    ("bare ipv6", X, "10.0.0.1:1", &[(XFF, b"2001:db8::1")], "2001:db8::1", VIA_XFF),
    ("bracketed ipv6 with port", X, "10.0.0.1:1", &[(XFF, b"[2001:db8::2]:443")], "2001:db8::2", VIA_XFF),
    ("bracketed ipv6 without port", X, "10.0.0.1:1", &[(XFF, b"[2001:db8::3]")], "2001:db8::3", VIA_XFF),
    ("ipv4-mapped entry is canonical", X, "10.0.0.1:1", &[(XFF, b"::ffff:203.0.113.6")], "203.0.113.6", VIA_XFF),
    ("ipv4-mapped trusted peer", X, "[::ffff:10.0.0.1]:1", &[(XFF, b"203.0.113.7")], "203.0.113.7", VIA_XFF),
    ("ipv4-mapped untrusted peer is canonical", X, "[::ffff:198.51.100.2]:1", &[], "198.51.100.2", PEER),
    ("trusted ipv6 peer", X, "[2001:db8:ffff::1]:1", &[(XFF, b"203.0.113.8")], "203.0.113.8", VIA_XFF),
    ("untrusted ipv6 peer", X, "[2001:db8:1::1]:1", &[(XFF, b"203.0.113.8")], "2001:db8:1::1", PEER),
    ("whitespace around entries", X, "10.0.0.1:1", &[(XFF, b"  203.0.113.9  ,  10.0.0.3 ")], "203.0.113.9", VIA_XFF),
    ("several header lines, in order", X, "10.0.0.1:1", &[(XFF, b"6.6.6.6"), (XFF, b"203.0.113.10")], "203.0.113.10", VIA_XFF),
    ("several lines, client in the first", X, "10.0.0.1:1", &[(XFF, b"203.0.113.11"), (XFF, b"10.0.0.4")], "203.0.113.11", VIA_XFF),
    ("garbage entry is unresolved", X, "10.0.0.1:1", &[(XFF, b"garbage")], NONE, UNRES),
    ("unknown is unresolved", X, "10.0.0.1:1", &[(XFF, b"unknown")], NONE, UNRES),
    ("empty value is unresolved", X, "10.0.0.1:1", &[(XFF, b"")], NONE, UNRES),
    ("empty rightmost entry is unresolved", X, "10.0.0.1:1", &[(XFF, b"203.0.113.1,,")], NONE, UNRES),
    ("non-ascii bytes are unresolved", X, "10.0.0.1:1", &[(XFF, b"\xff\xfe")], NONE, UNRES),
    ("overlong number is unresolved", X, "10.0.0.1:1", &[(XFF, b"999.1.1.1")], NONE, UNRES),
    ("port only is unresolved", X, "10.0.0.1:1", &[(XFF, b":80")], NONE, UNRES),
    ("unclosed bracket is unresolved", X, "10.0.0.1:1", &[(XFF, b"[2001:db8::1")], NONE, UNRES),
    ("junk after bracket is unresolved", X, "10.0.0.1:1", &[(XFF, b"[2001:db8::1]x")], NONE, UNRES),
    ("non-ascii entry left of the client", X, "127.0.0.1:1", &[(XFF, b"\xe9, 203.0.113.5")], "203.0.113.5", VIA_XFF),
    ("non-ascii in a spoofed entry left of the client", X, "10.0.0.1:1", &[(XFF, b"1.2.3.4\xe9x, 203.0.113.14, 10.0.0.2")], "203.0.113.14", VIA_XFF),
    ("non-ascii rightmost is unresolved", X, "10.0.0.1:1", &[(XFF, b"203.0.113.5, \xe9")], NONE, UNRES),
    ("unknown left of the client", X, "10.0.0.1:1", &[(XFF, b"unknown, 203.0.113.15")], "203.0.113.15", VIA_XFF),
    ("unknown rightmost is unresolved", X, "10.0.0.1:1", &[(XFF, b"203.0.113.5, unknown")], NONE, UNRES),
    ("empty entries left of the client", X, "10.0.0.1:1", &[(XFF, b",, 203.0.113.16")], "203.0.113.16", VIA_XFF),
    ("empty entry inside the trusted chain is unresolved", X, "10.0.0.1:1", &[(XFF, b"203.0.113.5, , 10.0.0.2")], NONE, UNRES),
    ("junk rightmost is unresolved", X, "10.0.0.1:1", &[(XFF, b"203.0.113.5, <script>")], NONE, UNRES),
    ("junk left of a trusted-only chain is unresolved", X, "10.0.0.1:1", &[(XFF, b"junk, 10.0.0.9")], NONE, UNRES),
    ("non-ascii line before the client's line", X, "10.0.0.1:1", &[(XFF, b"\xe9"), (XFF, b"203.0.113.12")], "203.0.113.12", VIA_XFF),
    ("non-ascii line after the client's line is unresolved", X, "10.0.0.1:1", &[(XFF, b"203.0.113.13"), (XFF, b"\xe9")], NONE, UNRES),
    ("lines concatenate across a trusted hop", X, "10.0.0.1:1", &[(XFF, b"6.6.6.6, 203.0.113.17"), (XFF, b"10.0.0.3, 10.0.0.2")], "203.0.113.17", VIA_XFF),
    ("Forwarded is ignored in XFF mode", X, "10.0.0.1:1", &[(FWD, b"for=203.0.113.1")], "10.0.0.1", PEER),
    ("XFF is ignored in Forwarded mode", F, "10.0.0.1:1", &[(XFF, b"203.0.113.1")], "10.0.0.1", PEER),
    ("Forwarded one element", F, "10.0.0.1:1", &[(FWD, b"for=203.0.113.60;proto=https;by=10.0.0.1")], "203.0.113.60", VIA_FWD),
    ("Forwarded quoted ipv6 with port", F, "10.0.0.1:1", &[(FWD, b"for=\"[2001:db8:cafe::17]:4711\"")], "2001:db8:cafe::17", VIA_FWD),
    ("Forwarded quoted ipv4", F, "10.0.0.1:1", &[(FWD, b"for=\"203.0.113.61\"")], "203.0.113.61", VIA_FWD),
    ("Forwarded spoofed left element", F, "10.0.0.1:1", &[(FWD, b"for=6.6.6.6, for=203.0.113.62")], "203.0.113.62", VIA_FWD),
    ("Forwarded trusted chain", F, "10.0.0.1:1", &[(FWD, b"for=203.0.113.63, for=10.0.0.8;proto=http")], "203.0.113.63", VIA_FWD),
    ("Forwarded parameter names are case-insensitive", F, "10.0.0.1:1", &[(FWD, b"For=203.0.113.64;PROTO=https")], "203.0.113.64", VIA_FWD),
    ("Forwarded spaces around pairs", F, "10.0.0.1:1", &[(FWD, b"  for=203.0.113.65 ; by=x ")], "203.0.113.65", VIA_FWD),
    ("Forwarded obfuscated node", F, "10.0.0.1:1", &[(FWD, b"for=_hidden")], NONE, UNRES),
    ("Forwarded unknown node", F, "10.0.0.1:1", &[(FWD, b"for=unknown")], NONE, UNRES),
    ("Forwarded obfuscated port", F, "10.0.0.1:1", &[(FWD, b"for=\"[2001:db8::9]:_p1\"")], "2001:db8::9", VIA_FWD),
    ("Forwarded quoted comma stays one element", F, "10.0.0.1:1", &[(FWD, b"for=\"203.0.113.1,203.0.113.2\"")], NONE, UNRES),
    ("Forwarded comma inside a quoted value", F, "10.0.0.1:1", &[(FWD, b"for=203.0.113.67;ext=\"a,for=6.6.6.6\"")], "203.0.113.67", VIA_FWD),
    ("Forwarded unterminated quote", F, "10.0.0.1:1", &[(FWD, b"for=\"203.0.113.1")], NONE, UNRES),
    ("Forwarded escaped quote", F, "10.0.0.1:1", &[(FWD, b"for=\"203.0.113.1\\\"\"")], NONE, UNRES),
    ("Forwarded repeated for is malformed", F, "10.0.0.1:1", &[(FWD, b"for=203.0.113.1;for=203.0.113.2")], NONE, UNRES),
    ("Forwarded element without for", F, "10.0.0.1:1", &[(FWD, b"proto=https")], NONE, UNRES),
    ("Forwarded pair without value", F, "10.0.0.1:1", &[(FWD, b"for")], NONE, UNRES),
    ("Forwarded several lines", F, "10.0.0.1:1", &[(FWD, b"for=6.6.6.6"), (FWD, b"for=203.0.113.66")], "203.0.113.66", VIA_FWD),
    ("Forwarded non-ascii bytes", F, "10.0.0.1:1", &[(FWD, b"for=\xff")], NONE, UNRES),
    ("Forwarded non-ascii element left of the client", F, "127.0.0.1:1", &[(FWD, b"for=\xe9, for=203.0.113.70")], "203.0.113.70", VIA_FWD),
    ("Forwarded non-ascii rightmost is unresolved", F, "10.0.0.1:1", &[(FWD, b"for=203.0.113.71, for=\xe9")], NONE, UNRES),
    ("Forwarded unknown left of the client", F, "10.0.0.1:1", &[(FWD, b"for=unknown, for=203.0.113.73")], "203.0.113.73", VIA_FWD),
    ("Forwarded unknown rightmost is unresolved", F, "10.0.0.1:1", &[(FWD, b"for=203.0.113.74, for=unknown")], NONE, UNRES),
    ("Forwarded empty element left of the client", F, "10.0.0.1:1", &[(FWD, b",, for=203.0.113.75")], "203.0.113.75", VIA_FWD),
    ("Forwarded empty rightmost is unresolved", F, "10.0.0.1:1", &[(FWD, b"for=203.0.113.76,")], NONE, UNRES),
    ("Forwarded junk rightmost is unresolved", F, "10.0.0.1:1", &[(FWD, b"for=203.0.113.77, for=<x>")], NONE, UNRES),
    ("Forwarded non-ascii line before the client's", F, "10.0.0.1:1", &[(FWD, b"for=\xff"), (FWD, b"for=203.0.113.72")], "203.0.113.72", VIA_FWD),
];

#[test]
fn resolves_the_table() {
    for (case, mode, peer, headers, expected, source) in CASES {
        let client = resolver(*mode)
            .client_ip(&request(Some(peer), headers))
            .unwrap_or_else(|| panic!("{case}: no client"));
        let expected: IpAddr = expected.parse().expect("valid expectation");
        assert_eq!(client.ip(), expected, "{case}");
        assert_eq!(client.source(), *source, "{case}");
    }
}

#[test]
fn without_a_peer_address_there_is_no_client() {
    let request = request(None, &[(XFF, b"203.0.113.1")]);
    assert_eq!(resolver(X).client_ip(&request), None);
    assert_eq!(resolver(X).scheme(&request), Scheme::Http);
}

fn chain(trusted_hops: usize) -> String {
    let mut entries = vec!["203.0.113.99".to_owned()];
    entries.extend((0..trusted_hops).map(|i| format!("10.0.{}.{}", i / 200, i % 200 + 1)));
    entries.join(", ")
}

#[test]
fn reads_at_most_max_hops_entries() {
    let within = chain(DEFAULT_MAX_HOPS - 1);
    let client = resolver(X).client_ip(&request(Some("10.0.0.1:1"), &[(XFF, within.as_bytes())]));
    assert_eq!(
        client.map(|c| c.to_string()).as_deref(),
        Some("203.0.113.99")
    );

    let beyond = chain(DEFAULT_MAX_HOPS);
    let client = resolver(X).client_ip(&request(Some("10.0.0.1:1"), &[(XFF, beyond.as_bytes())]));
    assert_eq!(client, Some(ClientIp::unresolved()));

    let forwarded = chain(DEFAULT_MAX_HOPS)
        .split(", ")
        .map(|ip| format!("for={ip}"))
        .collect::<Vec<_>>()
        .join(", ");
    let client =
        resolver(F).client_ip(&request(Some("10.0.0.1:1"), &[(FWD, forwarded.as_bytes())]));
    assert_eq!(client, Some(ClientIp::unresolved()));
}

#[test]
fn huge_headers_are_handled() {
    let mut huge = "1.1.1.1,".repeat(50_000);
    huge.push_str("203.0.113.1");
    let client = resolver(X).client_ip(&request(Some("10.0.0.1:1"), &[(XFF, huge.as_bytes())]));
    assert_eq!(
        client.map(|c| c.to_string()).as_deref(),
        Some("203.0.113.1")
    );

    let quotes = "\"".repeat(100_000);
    let client = resolver(F).client_ip(&request(Some("10.0.0.1:1"), &[(FWD, quotes.as_bytes())]));
    assert_eq!(client.map(|c| c.source()), Some(IpSource::Unresolved));
}

#[test]
fn max_hops_bounds_the_walk() {
    let one = resolver(X).max_hops(std::num::NonZeroUsize::MIN);
    let request = request(Some("10.0.0.1:1"), &[(XFF, b"203.0.113.1, 10.0.0.2")]);
    assert_eq!(
        one.client_ip(&request).map(|c| c.source()),
        Some(IpSource::Unresolved)
    );
}

/// What a guard limited to private networks (the metrics exporter's
/// `allow_ips`) decides: the client address must be in the list.
#[test]
fn a_private_network_guard_never_sees_the_proxy() {
    let private = TrustedProxies::private_networks();
    let resolver = ClientIpResolver::new().trusted_proxies("127.0.0.1".parse().expect("valid"));
    for header in [
        &b"\xe9, 203.0.113.5"[..],
        b"203.0.113.5, \xe9",
        b"unknown",
        b"",
        b"203.0.113.5,,",
        b"<script>",
    ] {
        let client = resolver
            .client_ip(&request(Some("127.0.0.1:1"), &[(XFF, header)]))
            .expect("peer present");
        assert!(
            !private.contains(client.ip()),
            "{header:?} resolved to {client} ({:?})",
            client.source()
        );
        assert_ne!(client.source(), IpSource::Peer, "{header:?}");
    }
    let long = format!("203.0.113.5, {}", ["127.0.0.1"; 20].join(", "));
    let client = resolver
        .client_ip(&request(Some("127.0.0.1:1"), &[(XFF, long.as_bytes())]))
        .expect("peer present");
    assert!(!private.contains(client.ip()), "over max_hops: {client}");
    // The proxy itself, forwarding nothing, is still allowed.
    let client = resolver
        .client_ip(&request(Some("127.0.0.1:1"), &[]))
        .expect("peer present");
    assert!(private.contains(client.ip()));
}

#[test]
fn unresolved_clients_get_the_scheme_of_the_proxy_that_saw_them() {
    let request = request(
        Some("10.0.0.1:1"),
        &[
            (XFF, b"203.0.113.5, unknown, 10.0.0.2"),
            (XFP, b"http, https, http"),
        ],
    );
    assert_eq!(
        resolver(X).client_ip(&request),
        Some(ClientIp::unresolved())
    );
    assert_eq!(resolver(X).scheme(&request), Scheme::Https);
}

/// (case, mode, peer, headers, expected scheme)
type SchemeCase = (
    &'static str,
    ForwardedHeader,
    &'static str,
    &'static [(&'static str, &'static [u8])],
    Scheme,
);

const XFP: &str = "x-forwarded-proto";
const HTTP: Scheme = Scheme::Http;
const HTTPS: Scheme = Scheme::Https;

#[rustfmt::skip]
const SCHEME_CASES: &[SchemeCase] = &[
    ("untrusted peer cannot claim https", X, "198.51.100.1:1", &[(XFP, b"https")], HTTP),
    ("trusted peer claims https", X, "10.0.0.1:1", &[(XFP, b"https")], HTTPS),
    ("trusted peer claims http", X, "10.0.0.1:1", &[(XFP, b"http")], HTTP),
    ("case-insensitive", X, "10.0.0.1:1", &[(XFP, b"HTTPS")], HTTPS),
    ("aligned with the client hop", X, "10.0.0.1:1", &[(XFF, b"203.0.113.1, 10.0.0.5"), (XFP, b"https, http")], HTTPS),
    ("a single overwritten value", X, "10.0.0.1:1", &[(XFF, b"203.0.113.1, 10.0.0.5"), (XFP, b"https")], HTTPS),
    ("spoofed entry left of the client is not read", X, "10.0.0.1:1", &[(XFF, b"6.6.6.6, 203.0.113.1"), (XFP, b"https, http")], HTTP),
    ("junk proto is the connection scheme", X, "10.0.0.1:1", &[(XFP, b"gopher")], HTTP),
    ("Forwarded proto", F, "10.0.0.1:1", &[(FWD, b"for=203.0.113.1;proto=https")], HTTPS),
    ("Forwarded proto of the client element", F, "10.0.0.1:1", &[(FWD, b"for=203.0.113.1;proto=https, for=10.0.0.9;proto=http")], HTTPS),
    ("Forwarded from untrusted peer", F, "198.51.100.1:1", &[(FWD, b"for=203.0.113.1;proto=https")], HTTP),
    ("XFP ignored in Forwarded mode", F, "10.0.0.1:1", &[(XFP, b"https")], HTTP),
];

#[test]
fn resolves_the_scheme_table() {
    for (case, mode, peer, headers, expected) in SCHEME_CASES {
        let scheme = resolver(*mode).scheme(&request(Some(peer), headers));
        assert_eq!(scheme, *expected, "{case}");
    }
}

#[test]
fn connection_scheme_comes_from_the_extension_never_the_request_target() {
    let mut tls = request(Some("198.51.100.1:1"), &[]);
    tls.extensions_mut().insert(Scheme::Https);
    assert_eq!(resolver(X).scheme(&tls), Scheme::Https);

    // Absolute-form `GET https://example.com/ HTTP/1.1` over plain HTTP.
    for peer in ["198.51.100.1:1", "10.0.0.1:1"] {
        let mut absolute = request(Some(peer), &[]);
        *absolute.uri_mut() = "https://example.com/".parse().expect("uri");
        assert_eq!(resolver(X).scheme(&absolute), Scheme::Http, "{peer}");
    }
    let mut absolute = request(None, &[]);
    *absolute.uri_mut() = "https://example.com/".parse().expect("uri");
    assert_eq!(resolver(X).scheme(&absolute), Scheme::Http);
}

#[cfg(feature = "axum")]
#[test]
fn reads_axum_connect_info() {
    let mut request = request(None, &[(XFF, b"203.0.113.1")]);
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(SocketAddr::from((
            [10, 0, 0, 1],
            9,
        ))));
    let client = resolver(X)
        .client_ip(&request)
        .expect("peer from ConnectInfo");
    assert_eq!(client.to_string(), "203.0.113.1");
}

#[test]
fn masks_ipv6_prefixes() {
    let ip: IpAddr = "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"
        .parse()
        .expect("ip");
    let masked = |prefix| mask_ipv6(ip, prefix).to_string();
    assert_eq!(masked(0), "::");
    assert_eq!(masked(48), "2001:db8:aaaa::");
    assert_eq!(masked(56), "2001:db8:aaaa:bb00::");
    assert_eq!(masked(64), "2001:db8:aaaa:bbbb::");
    assert_eq!(masked(128), ip.to_string());
    assert_eq!(masked(200), ip.to_string());
    let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
    assert_eq!(mask_ipv6(mapped, 64).to_string(), "192.0.2.1");
    assert_eq!(
        ClientIp::from_peer(ip).masked(64).to_string(),
        "2001:db8:aaaa:bbbb::"
    );
}

#[test]
fn trusted_proxy_lists_parse_and_reject() {
    let list: TrustedProxies = " 10.0.0.0/8 ,, 192.168.1.7 ,fd00::/8, 10.1.2.3/8 "
        .parse()
        .expect("valid");
    assert_eq!(list.nets().len(), 4);
    assert!(list.contains("192.168.1.7".parse().expect("ip")));
    assert!(!list.contains("192.168.1.8".parse().expect("ip")));
    assert!(list.contains("::ffff:10.9.9.9".parse().expect("ip")));
    assert!(list.contains("fd12::1".parse().expect("ip")));
    assert!(
        "".parse::<TrustedProxies>()
            .expect("empty is valid")
            .is_empty()
    );

    for bad in [
        "10.0.0.0/33",
        "10.0.0",
        "example.com",
        "10.0.0.0/8/8",
        "::/129",
    ] {
        let error = bad.parse::<TrustedProxies>().expect_err(bad);
        assert!(error.to_string().contains(bad), "{bad}: {error}");
    }
    let private = TrustedProxies::private_networks();
    assert!(private.contains("172.31.0.1".parse().expect("ip")));
    assert!(!private.contains("172.32.0.1".parse().expect("ip")));
}

#[test]
fn parses_nodes() {
    use super::parse::{Hop, parse_node};
    assert_eq!(
        parse_node("1.2.3.4"),
        Hop::Ip("1.2.3.4".parse().expect("ip"))
    );
    assert_eq!(
        parse_node("1.2.3.4:"),
        Hop::Ip("1.2.3.4".parse().expect("ip"))
    );
    assert_eq!(parse_node("1.2.3.4:1:2"), Hop::Opaque);
    assert_eq!(parse_node("[::1]:"), Hop::Ip("::1".parse().expect("ip")));
    assert_eq!(parse_node("[1.2.3.4]"), Hop::Opaque);
    assert_eq!(parse_node("]"), Hop::Opaque);
    assert_eq!(parse_node("[]"), Hop::Opaque);
    assert_eq!(parse_node("\u{0}"), Hop::Opaque);
}
