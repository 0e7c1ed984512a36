//! Token-wise redaction of a JSON prefix that serde_json cannot parse (cut
//! by the body cap, or invalid): the values of secret fields are replaced,
//! and a secret value that the prefix ends inside is redacted to the end.

use super::Redactor;

/// Where a value token ends: the index after it, and whether it closed
/// inside the input.
fn value_end(input: &[u8], start: usize) -> (usize, bool) {
    match input[start] {
        b'"' => string_end(input, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            while i < input.len() {
                match input[i] {
                    b'"' => {
                        let (end, closed) = string_end(input, i);
                        if !closed {
                            return (input.len(), false);
                        }
                        i = end;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return (i + 1, true);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            (input.len(), false)
        }
        _ => {
            let end = input[start..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                .map_or(input.len(), |n| start + n);
            // A scalar running to the end of a cut prefix may go on.
            (end, end < input.len())
        }
    }
}

/// The end of the string token starting at `start` (a `"`).
fn string_end(input: &[u8], start: usize) -> (usize, bool) {
    let mut i = start + 1;
    while i < input.len() {
        match input[i] {
            b'\\' => i += 2,
            b'"' => return (i + 1, true),
            _ => i += 1,
        }
    }
    (input.len(), false)
}

/// The text a string token stands for (escapes decoded), or the raw bytes.
fn token_text(token: &[u8]) -> Vec<u8> {
    serde_json::from_slice::<String>(token).map_or_else(|_| token.to_vec(), String::into_bytes)
}

/// Redacts the values of secret fields in `input`, which may be cut anywhere.
pub(super) fn redact_prefix(input: &[u8], redactor: &Redactor) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    // Open containers: `true` for an object.
    let mut stack: Vec<bool> = Vec::new();
    let mut expect_key = false;
    let mut secret_value = false;
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        let in_object = stack.last().copied().unwrap_or(false);
        match b {
            b'"' if in_object && expect_key => {
                let (end, closed) = string_end(input, i);
                if !closed {
                    // A key cut short: what it names is unknown, keep nothing.
                    break;
                }
                let name = token_text(&input[i..end]);
                secret_value = redactor.is_secret_field(&String::from_utf8_lossy(&name));
                out.extend_from_slice(&input[i..end]);
                expect_key = false;
                i = end;
                continue;
            }
            b',' => {
                expect_key = in_object;
                secret_value = false;
            }
            b'}' | b']' => {
                stack.pop();
                secret_value = false;
            }
            b':' => {}
            _ if b.is_ascii_whitespace() => {}
            _ if secret_value => {
                let (end, closed) = value_end(input, i);
                let token = &input[i..end];
                let text = if closed && b == b'"' {
                    token_text(token)
                } else {
                    token.to_vec()
                };
                out.push(b'"');
                out.extend_from_slice(redactor.mark(&text).as_bytes());
                out.push(b'"');
                secret_value = false;
                i = end;
                continue;
            }
            b'{' | b'[' => {
                stack.push(b == b'{');
                expect_key = b == b'{';
            }
            b'"' => {
                let (end, _) = string_end(input, i);
                out.extend_from_slice(&input[i..end]);
                i = end;
                continue;
            }
            _ => {}
        }
        out.push(b);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::*;

    fn redactor() -> Redactor {
        let fields = ["password", "token"].map(str::to_owned).into();
        Redactor::new(HashSet::new(), fields, Arc::from(&b"k"[..]))
    }

    fn run(input: &str) -> String {
        String::from_utf8(redact_prefix(input.as_bytes(), &redactor())).unwrap()
    }

    #[test]
    fn redacts_nested_and_cut_values() {
        let r = redactor();
        let hunter = r.mark(b"hunter2");
        assert_eq!(
            run(r#"{"a":[{"Password":"hunter2"}],"b":1,"token":"abc"#),
            format!(
                r#"{{"a":[{{"Password":"{hunter}"}}],"b":1,"token":"{}""#,
                r.mark(br#""abc"#)
            )
        );
        let out = run(r#"{"user":"ada","password": {"x": "secret-in-objec"#);
        assert!(!out.contains("secret-in"), "{out}");
        assert!(
            out.starts_with(r#"{"user":"ada","password": "redacted:"#),
            "{out}"
        );
        let out = run(r#"{"token":12345"#);
        assert!(!out.contains("12345"), "{out}");
        let out = run(r#"{"pass\u0077ord":"hunter2","x":"y"}"#);
        assert!(out.contains(&hunter), "{out}");
        // A key cut short: nothing after it is kept.
        assert_eq!(run(r#"{"a":"b","passw"#), r#"{"a":"b","#);
    }
}
