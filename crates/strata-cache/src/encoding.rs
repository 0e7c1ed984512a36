//! `Accept-Encoding` as the coding a response would get (RFC 9110
//! §12.5.3), so requests that would get the same bytes share a variant.
//!
//! The preference on equal weights is the compression layer's: `br`,
//! `zstd`, `gzip`, `deflate`, then `identity`.

use http::HeaderMap;
use http::header::ACCEPT_ENCODING;
use strata_core::headers::list;

const CODINGS: [&str; 4] = ["br", "zstd", "gzip", "deflate"];

/// Weights in thousandths, as the request gave them.
#[derive(Debug, Default)]
struct Accepted {
    present: bool,
    codings: [Option<u16>; 4],
    identity: Option<u16>,
    star: Option<u16>,
}

fn weight(value: &str) -> Option<u16> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut w: u16 = 0;
    for (i, d) in frac.bytes().enumerate() {
        w += u16::from(d - b'0') * [100, 10, 1][i];
    }
    match int {
        "0" => Some(w),
        "1" if w == 0 => Some(1000),
        _ => None,
    }
}

impl Accepted {
    fn read(headers: &HeaderMap) -> Self {
        let mut a = Self::default();
        for value in headers.get_all(ACCEPT_ENCODING) {
            a.present = true;
            let Ok(value) = value.to_str() else { continue };
            for entry in list(value) {
                let mut parts = entry.split(';');
                let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
                let mut w = Some(1000);
                for param in parts {
                    match param.split_once('=') {
                        Some((n, v)) if n.trim().eq_ignore_ascii_case("q") => w = weight(v.trim()),
                        Some(_) => {}
                        None => w = None,
                    }
                }
                let Some(w) = w else { continue };
                let slot = match coding.as_str() {
                    "*" => &mut a.star,
                    "identity" => &mut a.identity,
                    "x-gzip" => &mut a.codings[2],
                    c => match CODINGS.iter().position(|k| *k == c) {
                        Some(i) => &mut a.codings[i],
                        None => continue,
                    },
                };
                slot.get_or_insert(w);
            }
        }
        a
    }

    fn coding_weight(&self, i: usize) -> u16 {
        self.codings[i].or(self.star).unwrap_or(0)
    }

    fn identity_weight(&self) -> u16 {
        self.identity.or(self.star).unwrap_or(1)
    }
}

/// The coding the response would get: `br`, `zstd`, `gzip`, `deflate`,
/// `identity`, or `none` when nothing is acceptable.
pub(crate) fn negotiated(headers: &HeaderMap) -> &'static str {
    let a = Accepted::read(headers);
    if !a.present {
        return "identity";
    }
    let identity = a.identity_weight();
    let mut best: Option<(usize, u16)> = None;
    for i in 0..CODINGS.len() {
        let w = a.coding_weight(i);
        if w > 0 && best.is_none_or(|(_, top)| w > top) {
            best = Some((i, w));
        }
    }
    match best {
        Some((i, w)) if w >= identity => CODINGS[i],
        _ if identity > 0 => "identity",
        Some((i, _)) => CODINGS[i],
        None => "none",
    }
}

/// Whether a request accepts a response in `content_encoding` (absent:
/// identity).
pub(crate) fn accepts(headers: &HeaderMap, content_encoding: Option<&str>) -> bool {
    let a = Accepted::read(headers);
    match content_encoding.map(str::trim) {
        None | Some("") => !a.present || a.identity_weight() > 0,
        Some(coding) => {
            let coding = coding.to_ascii_lowercase();
            let coding = if coding == "x-gzip" {
                "gzip".to_owned()
            } else {
                coding
            };
            match CODINGS.iter().position(|k| *k == coding) {
                Some(i) => a.coding_weight(i) > 0,
                None => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn h(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(ACCEPT_ENCODING, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn equivalent_requests_get_one_coding() {
        let table: &[(&[&str], &str)] = &[
            (&[], "identity"),
            (&["gzip, deflate, br, zstd"], "br"),
            (&["br, gzip"], "br"),
            (&["BR;q=1.0, gzip;q=0.5"], "br"),
            (&["gzip;q=1.0, br;q=0.5"], "gzip"),
            (&["gzip", "deflate"], "gzip"),
            (&["x-gzip"], "gzip"),
            (&["gzip;q=0, br;q=0"], "identity"),
            (&["*"], "br"),
            (&["*;q=0"], "none"),
            (&["identity;q=0, deflate"], "deflate"),
            (&["gzip;q=0.5, identity"], "identity"),
            (&["gzip;q=abc"], "identity"),
            (&["compress"], "identity"),
        ];
        for (values, coding) in table {
            assert_eq!(negotiated(&h(values)), *coding, "{values:?}");
        }
    }

    #[test]
    fn stored_codings_are_checked_against_the_request() {
        assert!(accepts(&h(&["gzip"]), Some("gzip")));
        assert!(!accepts(&h(&["br"]), Some("gzip")));
        assert!(accepts(&h(&[]), None));
        assert!(!accepts(&h(&["identity;q=0, br"]), None));
        assert!(!accepts(&h(&["gzip"]), Some("compress")));
    }
}
