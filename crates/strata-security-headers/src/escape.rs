//! Client-supplied text as it may go into a log line.

use std::fmt;

/// Formats client text for a log: control characters (newline, carriage
/// return, ESC, ...), quotes and backslashes escaped as Rust's
/// [`str::escape_debug`] does (`\n`, `\u{1b}`), so a value can neither start
/// a forged log line nor send terminal escape sequences. At most `max`
/// characters of the text are shown, then `…`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Escaped<'a> {
    text: &'a str,
    max: usize,
}

impl<'a> Escaped<'a> {
    /// The whole of `text` (already bounded by its parser).
    pub(crate) fn new(text: &'a str) -> Self {
        Self::cut(text, usize::MAX)
    }

    /// The first `max` characters of `text`.
    pub(crate) fn cut(text: &'a str, max: usize) -> Self {
        Self { text, max }
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.text.char_indices().nth(self.max) {
            Some((end, _)) => write!(f, "{}…", self.text[..end].escape_debug()),
            None => fmt::Display::fmt(&self.text.escape_debug(), f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Escaped;

    #[test]
    fn control_characters_are_escaped_and_text_is_cut() {
        let text = "a\nb\x1b[31mc\r\"é";
        assert_eq!(Escaped::new(text).to_string(), r#"a\nb\u{1b}[31mc\r\"é"#);
        assert_eq!(Escaped::cut(text, 3).to_string(), r"a\nb…");
        assert_eq!(Escaped::cut("abc", 3).to_string(), "abc");
    }
}
