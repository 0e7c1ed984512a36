//! Entity-tag lists of `If-None-Match` and `If-Match` (RFC 9110, section
//! 13.1), read as the grammar says: a tag is quoted and may contain commas,
//! so a list is never split on commas.

/// One element of a field value: `*`, or an entity-tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Element<'a> {
    /// `*`, which must stand alone.
    Any,
    /// An entity-tag: `opaque` is between the quotes.
    Tag {
        /// `W/` was given.
        weak: bool,
        /// The bytes between the quotes (`etagc`: `!`, `#`..`~`, obs-text).
        opaque: &'a [u8],
    },
}

/// Whether `byte` may appear between an entity-tag's quotes.
fn is_etagc(byte: u8) -> bool {
    byte == 0x21 || (0x23..=0x7e).contains(&byte) || byte >= 0x80
}

fn skip_ows(value: &[u8], mut at: usize) -> usize {
    while at < value.len() && matches!(value[at], b' ' | b'\t') {
        at += 1;
    }
    at
}

/// Parses one field value: `*`, or a comma-separated list of entity-tags
/// (empty elements allowed, as for every list). `None` when the value does
/// not follow the grammar; callers then leave it alone, so a malformed value
/// never becomes a match. One pass over the bytes.
pub(crate) fn parse(value: &[u8]) -> Option<Vec<Element<'_>>> {
    let start = skip_ows(value, 0);
    let end = value.len()
        - value
            .iter()
            .rev()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
    if start >= end {
        return None;
    }
    if &value[start..end] == b"*" {
        return Some(vec![Element::Any]);
    }
    let mut elements = Vec::new();
    let mut at = start;
    loop {
        at = skip_ows(value, at);
        if at < end && value[at] == b',' {
            // An empty element.
            at += 1;
            continue;
        }
        if at >= end {
            break;
        }
        let weak = value[at..end].starts_with(b"W/");
        if weak {
            at += 2;
        }
        if value.get(at) != Some(&b'"') {
            return None;
        }
        let opening = at + 1;
        let length = value[opening..end]
            .iter()
            .take_while(|&&b| is_etagc(b))
            .count();
        let closing = opening + length;
        if value.get(closing) != Some(&b'"') || closing >= end {
            return None;
        }
        elements.push(Element::Tag {
            weak,
            opaque: &value[opening..closing],
        });
        at = skip_ows(value, closing + 1);
        if at < end && value[at] != b',' {
            return None;
        }
    }
    if elements.is_empty() {
        return None;
    }
    Some(elements)
}

/// Writes `elements` back as a field value, tags separated by `", "`.
pub(crate) fn render(elements: &[Element<'_>], capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    for (i, element) in elements.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        match element {
            Element::Any => out.push(b'*'),
            Element::Tag { weak, opaque } => {
                if *weak {
                    out.extend_from_slice(b"W/");
                }
                out.push(b'"');
                out.extend_from_slice(opaque);
                out.push(b'"');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Element::{Any, Tag};
    use super::*;

    fn strong(opaque: &str) -> Element<'_> {
        Tag {
            weak: false,
            opaque: opaque.as_bytes(),
        }
    }

    fn weak(opaque: &str) -> Element<'_> {
        Tag {
            weak: true,
            opaque: opaque.as_bytes(),
        }
    }

    #[test]
    fn lists_are_read_by_the_grammar_not_split_on_commas() {
        let cases: &[(&str, Option<Vec<Element<'_>>>)] = &[
            ("\"a\"", Some(vec![strong("a")])),
            ("\"a,b\"", Some(vec![strong("a,b")])),
            ("\"a,b\", \"c\"", Some(vec![strong("a,b"), strong("c")])),
            ("W/\"a,b\",W/\"c\"", Some(vec![weak("a,b"), weak("c")])),
            ("\"\"", Some(vec![strong("")])),
            ("\",\"", Some(vec![strong(",")])),
            ("  \"a\" ,\t, \"b\"  ", Some(vec![strong("a"), strong("b")])),
            (", \"a\",", Some(vec![strong("a")])),
            ("*", Some(vec![Any])),
            (" * ", Some(vec![Any])),
            ("\"a\", *", None),
            ("*, \"a\"", None),
            ("**", None),
            ("", None),
            ("  ", None),
            (",", None),
            ("a", None),
            ("\"a", None),
            ("\"a\" b", None),
            ("\"a\"\"b\"", None),
            ("\"a b\"", None),
            ("w/\"a\"", None),
            ("W/ \"a\"", None),
            ("W/", None),
            ("\"a\", junk, \"b\"", None),
        ];
        for (value, expected) in cases {
            assert_eq!(&parse(value.as_bytes()), expected, "{value:?}");
        }
        // obs-text is etagc.
        assert_eq!(
            parse(b"\"caf\xc3\xa9\""),
            Some(vec![Tag {
                weak: false,
                opaque: b"caf\xc3\xa9"
            }])
        );
    }

    #[test]
    fn a_huge_list_is_read_in_one_pass() {
        let value = (0..100_000)
            .map(|i| format!("\"tag,{i}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let elements = parse(value.as_bytes()).expect("valid list");
        assert_eq!(elements.len(), 100_000);
        assert_eq!(elements[99_999], strong("tag,99999"));
        assert_eq!(render(&elements, value.len()), value.as_bytes());
    }
}
