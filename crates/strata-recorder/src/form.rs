//! `application/x-www-form-urlencoded` (and URI query) splitting and
//! percent-decoding, as little as the recorder needs.

use std::borrow::Cow;

/// Splits `a=b&c=d` into raw (still encoded) `(name, value)` pairs; a pair
/// without `=` has no value.
pub(crate) fn pairs(query: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (pair, None),
        })
}

/// Percent- and `+`-decodes `raw` (invalid escapes stay as they are,
/// invalid UTF-8 is replaced).
pub(crate) fn decode(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['%', '+']) {
        return Cow::Borrowed(raw);
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex(b: &u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_plus() {
        assert_eq!(decode("a%20b+c%2"), "a b c%2");
        assert_eq!(decode("pass%77ord"), "password");
        let got: Vec<_> = pairs("a=1&&b&c=").collect();
        assert_eq!(got, [("a", Some("1")), ("b", None), ("c", Some(""))]);
    }
}
