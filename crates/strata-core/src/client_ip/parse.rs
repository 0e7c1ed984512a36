//! Parsing of forwarding headers, hop by hop, from the right.
//!
//! Everything here is total: junk yields [`Hop::Opaque`], never a panic.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use http::HeaderValue;

use super::Scheme;

/// One entry of a forwarding chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hop {
    /// A node address.
    Ip(IpAddr),
    /// `unknown`, an obfuscated identifier (`_hidden`), or anything unparsable.
    Opaque,
}

/// Parses a node as written in `X-Forwarded-For` or a `Forwarded` `for=` value:
/// `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:8080`.
/// Quotes are removed by the caller.
pub(crate) fn parse_node(node: &str) -> Hop {
    let node = node.trim();
    let ip = if let Some(rest) = node.strip_prefix('[') {
        // `[v6]` or `[v6]:port`; the port may be obfuscated (`_abc`) and is ignored.
        rest.split_once(']').and_then(|(addr, tail)| {
            let port_ok = tail.is_empty() || tail.starts_with(':');
            port_ok.then(|| addr.parse::<Ipv6Addr>().ok().map(IpAddr::V6))?
        })
    } else if let Ok(ip) = node.parse::<IpAddr>() {
        Some(ip)
    } else {
        // `v4:port`: exactly one colon, so a bare IPv6 address never lands here.
        node.split_once(':')
            .filter(|(_, port)| !port.contains(':'))
            .and_then(|(addr, _)| addr.parse::<Ipv4Addr>().ok().map(IpAddr::V4))
    };
    ip.map_or(Hop::Opaque, |ip| Hop::Ip(ip.to_canonical()))
}

/// Entries of `X-Forwarded-For` (all header lines, in order), from the right.
///
/// Each entry is read on its own from the raw bytes: a non-UTF-8 entry is
/// [`Hop::Opaque`] and leaves its neighbours readable.
pub(crate) fn xff_hops<'a>(
    values: impl DoubleEndedIterator<Item = &'a HeaderValue>,
) -> impl Iterator<Item = Hop> {
    values.rev().flat_map(|value| {
        value
            .as_bytes()
            .rsplit(|&b| b == b',')
            .map(|entry| std::str::from_utf8(entry).map_or(Hop::Opaque, parse_node))
    })
}

/// Entries of `X-Forwarded-Proto` (all header lines, in order), from the right.
pub(crate) fn proto_entries<'a>(
    values: impl DoubleEndedIterator<Item = &'a HeaderValue>,
) -> impl Iterator<Item = Option<Scheme>> {
    values.rev().flat_map(|value| {
        value
            .as_bytes()
            .rsplit(|&b| b == b',')
            .map(|entry| std::str::from_utf8(entry).ok().and_then(Scheme::parse))
    })
}

/// One `Forwarded` element, reduced to what the resolver reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) node: Hop,
    pub(crate) proto: Option<Scheme>,
}

/// The last `keep` elements of all `Forwarded` lines, rightmost first.
///
/// Splitting respects quoted strings, so `for="a,b"` stays one element. Memory
/// is bounded by `keep`, whatever the header length.
pub(crate) fn forwarded_elements<'a>(
    values: impl Iterator<Item = &'a HeaderValue>,
    keep: usize,
) -> Vec<Element> {
    let mut tail: VecDeque<Element> = VecDeque::with_capacity(keep.min(32));
    let mut push = |raw: &[u8]| {
        if tail.len() == keep {
            tail.pop_front();
        }
        if keep > 0 {
            // A non-UTF-8 element is opaque; its neighbours stay readable.
            tail.push_back(std::str::from_utf8(raw).map_or(OPAQUE, parse_element));
        }
    };
    for value in values {
        split_outside_quotes(value.as_bytes(), b',', &mut push);
    }
    tail.into_iter().rev().collect()
}

const OPAQUE: Element = Element {
    node: Hop::Opaque,
    proto: None,
};

/// Parses `for=...;proto=...;by=...` (parameter names are case-insensitive).
fn parse_element(raw: &str) -> Element {
    let mut element = OPAQUE;
    let mut seen_for = false;
    split_outside_quotes(raw.as_bytes(), b';', &mut |pair| {
        // `raw` is UTF-8 and the split is on ASCII bytes: every piece is too.
        let Ok(pair) = std::str::from_utf8(pair) else {
            return;
        };
        let Some((name, value)) = pair.split_once('=') else {
            return;
        };
        let value = unquote(value.trim());
        match name.trim() {
            n if n.eq_ignore_ascii_case("for") => {
                // A repeated `for` is malformed: the element is opaque.
                element.node = if seen_for {
                    Hop::Opaque
                } else {
                    value.map_or(Hop::Opaque, parse_node)
                };
                seen_for = true;
            }
            n if n.eq_ignore_ascii_case("proto") => {
                element.proto = value.and_then(Scheme::parse);
            }
            _ => {}
        }
    });
    element
}

/// Strips the quotes of a quoted-string. Escapes never occur in a valid node or
/// scheme, so a value containing one is refused (`None`).
fn unquote(value: &str) -> Option<&str> {
    let inner = match value.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"')?,
        None => value,
    };
    (!inner.contains(['"', '\\'])).then_some(inner)
}

/// Calls `f` with each `sep`-separated piece of `bytes`, ignoring separators in
/// quoted strings (with backslash escapes).
fn split_outside_quotes(bytes: &[u8], sep: u8, f: &mut impl FnMut(&[u8])) {
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if b == sep && !quoted {
            f(&bytes[start..i]);
            start = i + 1;
        }
    }
    f(&bytes[start..]);
}
