//! Reading the header syntax several layers share: media types and
//! comma-separated lists (RFC 9110 §5.6.1), without allocating.

/// The essence of a media type (`type/subtype`, parameters and whitespace
/// removed), as written; compare it with `eq_ignore_ascii_case`.
///
/// ```
/// use strata_core::headers::essence;
///
/// assert_eq!(essence("Text/HTML; charset=utf-8"), "Text/HTML");
/// assert_eq!(essence(" application/json "), "application/json");
/// assert_eq!(essence(""), "");
/// ```
pub fn essence(media_type: &str) -> &str {
    media_type
        .split_once(';')
        .map_or(media_type, |(essence, _)| essence)
        .trim()
}

/// The elements of a comma-separated header list, trimmed, empty elements
/// skipped (`a, , b` is `a`, `b`). A comma inside a quoted string does not
/// split (`"a,b"` is one element), and a backslash escapes the next
/// character inside quotes. Work is linear in the length of `value`.
///
/// ```
/// use strata_core::headers::list;
///
/// let items: Vec<&str> = list(r#"gzip;q=1.0, , br , "a,b", W/"x\"y,z""#).collect();
/// assert_eq!(items, ["gzip;q=1.0", "br", r#""a,b""#, r#"W/"x\"y,z""#]);
/// ```
pub fn list(value: &str) -> impl Iterator<Item = &str> {
    List { rest: value }
}

#[derive(Debug)]
struct List<'a> {
    rest: &'a str,
}

impl<'a> Iterator for List<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        while !self.rest.is_empty() {
            let bytes = self.rest.as_bytes();
            let (mut quoted, mut escaped, mut end) = (false, false, bytes.len());
            for (at, &byte) in bytes.iter().enumerate() {
                match byte {
                    _ if escaped => escaped = false,
                    b'\\' if quoted => escaped = true,
                    b'"' => quoted = !quoted,
                    b',' if !quoted => {
                        end = at;
                        break;
                    }
                    _ => {}
                }
            }
            let item = self.rest[..end].trim();
            self.rest = self.rest.get(end + 1..).unwrap_or("");
            if !item.is_empty() {
                return Some(item);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{essence, list};

    #[test]
    fn lists_split_outside_quotes_only() {
        let cases: [(&str, &[&str]); 7] = [
            ("", &[]),
            (" , ,, ", &[]),
            ("a", &["a"]),
            ("a,b", &["a", "b"]),
            (r#""unclosed, list"#, &[r#""unclosed, list"#]),
            (r#""a\",b", c"#, &[r#""a\",b""#, "c"]),
            (
                "no-cache, max-age=0 ,private",
                &["no-cache", "max-age=0", "private"],
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(list(value).collect::<Vec<_>>(), expected, "{value:?}");
        }
    }

    #[test]
    fn a_long_list_is_read_in_one_pass() {
        let value = "x, ".repeat(100_000);
        assert_eq!(list(&value).count(), 100_000);
    }

    #[test]
    fn essence_drops_parameters() {
        assert_eq!(essence("text/plain;charset=utf-8"), "text/plain");
        assert_eq!(essence("image/svg+xml"), "image/svg+xml");
        assert_eq!(essence(" ; q=1"), "");
    }
}
