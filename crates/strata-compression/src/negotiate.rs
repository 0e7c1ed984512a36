//! `Accept-Encoding` negotiation (RFC 9110, section 12.5.3).

use http::HeaderMap;
use http::header::ACCEPT_ENCODING;
use strata_core::headers::list;

use crate::codec::Encoding;

/// The outcome of negotiating one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Negotiated {
    /// Compress with this coding.
    Encode(Encoding),
    /// Send the content as it is.
    Identity,
    /// The client accepts neither an offered coding nor identity.
    NotAcceptable,
}

/// A weight in thousandths, `0..=1000`.
type Weight = u16;

/// Parses a `qvalue`: `0`, `0.d{0,3}`, `1`, `1.0{0,3}`.
fn parse_weight(value: &str) -> Option<Weight> {
    let (int, frac) = match value.split_once('.') {
        Some((int, frac)) => (int, frac),
        None => (value, ""),
    };
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: Weight = 0;
    for (i, digit) in frac.bytes().enumerate() {
        thousandths += Weight::from(digit - b'0') * [100, 10, 1][i];
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// One `coding;q=w` entry, or `None` when it is malformed.
fn parse_entry(entry: &str) -> Option<(&str, Weight)> {
    let mut parts = entry.split(';');
    let coding = parts.next()?.trim();
    if !is_token(coding) {
        return None;
    }
    let mut weight = 1000;
    for param in parts {
        let (name, value) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("q") {
            weight = parse_weight(value.trim())?;
        }
    }
    Some((coding, weight))
}

/// What a request's `Accept-Encoding` headers say about each coding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Accepted {
    present: bool,
    codings: [Option<Weight>; 4],
    identity: Option<Weight>,
    star: Option<Weight>,
}

impl Accepted {
    /// Reads every `Accept-Encoding` header. Values that are not visible
    /// ASCII and malformed entries are ignored; the first mention of a
    /// coding wins.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let mut accepted = Self::default();
        for value in headers.get_all(ACCEPT_ENCODING) {
            accepted.present = true;
            let Ok(value) = value.to_str() else { continue };
            for entry in list(value) {
                let Some((coding, weight)) = parse_entry(entry) else {
                    continue;
                };
                let slot = if coding == "*" {
                    &mut accepted.star
                } else if coding.eq_ignore_ascii_case("identity") {
                    &mut accepted.identity
                } else if let Some(encoding) = Encoding::from_token(coding) {
                    &mut accepted.codings[encoding.index()]
                } else {
                    continue;
                };
                slot.get_or_insert(weight);
            }
        }
        accepted
    }

    fn weight(&self, encoding: Encoding) -> Weight {
        self.codings[encoding.index()].or(self.star).unwrap_or(0)
    }

    /// Picks the coding for a response, offering `offered` in server
    /// preference order: the highest client weight wins, ties go to the
    /// server's order. Identity, when the client weights it (by name or
    /// through `*`), wins over codings it weights lower; when it does not,
    /// identity is acceptable but comes after any acceptable coding. Without
    /// an `Accept-Encoding` header nothing is compressed.
    pub(crate) fn negotiate(&self, offered: &[Encoding]) -> Negotiated {
        if !self.present {
            return Negotiated::Identity;
        }
        let identity = self.identity.or(self.star).unwrap_or(1);
        let mut best: Option<(Encoding, Weight)> = None;
        for &encoding in offered {
            let weight = self.weight(encoding);
            if weight > 0 && best.is_none_or(|(_, top)| weight > top) {
                best = Some((encoding, weight));
            }
        }
        match best {
            Some((encoding, weight)) if weight >= identity => Negotiated::Encode(encoding),
            _ if identity > 0 => Negotiated::Identity,
            Some((encoding, _)) => Negotiated::Encode(encoding),
            None => Negotiated::NotAcceptable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const ALL: [Encoding; 4] = Encoding::ALL;

    fn negotiate(values: &[&str], offered: &[Encoding]) -> Negotiated {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                ACCEPT_ENCODING,
                HeaderValue::from_str(value).expect("test header"),
            );
        }
        Accepted::from_headers(&headers).negotiate(offered)
    }

    use Encoding::{Br, Deflate, Gzip, Zstd};
    use Negotiated::{Encode, Identity, NotAcceptable};

    #[test]
    fn negotiation_table() {
        let table: &[(&[&str], &[Encoding], Negotiated)] = &[
            (&[], &ALL, Identity),
            (&[""], &ALL, Identity),
            (&["gzip"], &ALL, Encode(Gzip)),
            (&["GZIP"], &ALL, Encode(Gzip)),
            (&["x-gzip"], &ALL, Encode(Gzip)),
            (&["gzip, deflate, br, zstd"], &ALL, Encode(Br)),
            (
                &["gzip, deflate, br, zstd"],
                &[Zstd, Br, Gzip],
                Encode(Zstd),
            ),
            (&["gzip;q=1.0, br;q=0.5"], &ALL, Encode(Gzip)),
            (&["br;q=0.001, gzip;q=0.002"], &ALL, Encode(Gzip)),
            (
                &["br;q=0.001, gzip;q=0.002, identity;q=0"],
                &ALL,
                Encode(Gzip),
            ),
            (&["gzip;q=0, br;q=0"], &ALL, Identity),
            (&["*"], &ALL, Encode(Br)),
            (&["*;q=0.5, br;q=0"], &ALL, Encode(Zstd)),
            (&["*;q=0"], &ALL, NotAcceptable),
            (&["*;q=0, identity"], &ALL, Identity),
            (&["identity;q=0"], &ALL, NotAcceptable),
            (&["identity;q=0, gzip"], &ALL, Encode(Gzip)),
            (&["identity;q=0, gzip;q=0.1"], &[Br], NotAcceptable),
            (&["gzip;q=0.5, identity"], &ALL, Identity),
            (&["gzip;q=0.5, *"], &ALL, Encode(Br)),
            (&["gzip;q=0.5, *;q=0.8"], &ALL, Encode(Br)),
            (&["gzip;q=0.5, identity;q=0.8, *;q=0"], &ALL, Identity),
            (&["gzip;q=0.5, identity;q=0.5"], &ALL, Encode(Gzip)),
            (&["deflate"], &ALL, Encode(Deflate)),
            (&["gzip"], &[Br, Zstd], Identity),
            // Several headers combine.
            (&["gzip;q=0.5", "br"], &ALL, Encode(Br)),
            (&["identity;q=0", "zstd"], &ALL, Encode(Zstd)),
            // Malformed entries are ignored, the rest still counts.
            (&["gzip;q=2, br"], &ALL, Encode(Br)),
            (&["gzip;q=abc"], &ALL, Identity),
            (&["gzip;q=0.1234, deflate"], &ALL, Encode(Deflate)),
            (&["gz ip, zstd"], &ALL, Encode(Zstd)),
            (&[";;;,,, br;q"], &ALL, Identity),
            (&["br;q=1.5"], &ALL, Identity),
            (&["  Br ;  Q = 0.8 , gzip;q=0.7"], &ALL, Encode(Br)),
            (&["compress, lzma"], &ALL, Identity),
            // The first mention of a coding wins.
            (&["gzip;q=0, gzip"], &[Gzip], Identity),
        ];
        for (values, offered, expected) in table {
            assert_eq!(
                negotiate(values, offered),
                *expected,
                "Accept-Encoding {values:?} offering {offered:?}"
            );
        }
    }

    #[test]
    fn non_ascii_header_values_are_ignored() {
        let mut headers = HeaderMap::new();
        headers.append(
            ACCEPT_ENCODING,
            HeaderValue::from_bytes(b"gzip\xff").expect("opaque header"),
        );
        headers.append(ACCEPT_ENCODING, HeaderValue::from_static("br"));
        assert_eq!(Accepted::from_headers(&headers).negotiate(&ALL), Encode(Br));
    }

    #[test]
    fn weights_parse_strictly() {
        assert_eq!(parse_weight("0"), Some(0));
        assert_eq!(parse_weight("0.5"), Some(500));
        assert_eq!(parse_weight("0.125"), Some(125));
        assert_eq!(parse_weight("1"), Some(1000));
        assert_eq!(parse_weight("1.000"), Some(1000));
        assert_eq!(parse_weight("1.001"), None);
        assert_eq!(parse_weight("0.1234"), None);
        assert_eq!(parse_weight("-0"), None);
        assert_eq!(parse_weight(""), None);
        assert_eq!(parse_weight("."), None);
    }
}
