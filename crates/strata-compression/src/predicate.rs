//! Which media types are worth compressing.

use strata_core::ConfigError;

/// An allow-list of compressible media types.
///
/// Entries are `type/subtype` (exact), `type/*` (every subtype), or
/// `*/*+suffix` (every type with a structured syntax suffix, such as
/// `*/*+json`). Matching ignores ASCII case and media type parameters.
/// A response without `Content-Type` is not compressed.
///
/// The default list ([`ContentTypes::default`]) holds the text formats:
/// `text/*`, JSON, JavaScript, XML, SVG, wasm, YAML, TOML, CSV-like text,
/// uncompressed fonts and icons. Already compressed formats (images, video,
/// audio, archives, PDF, woff2) are absent, so they pass through untouched.
///
/// ```
/// use strata_compression::ContentTypes;
///
/// let types = ContentTypes::default().allow("application/x-ndjson")?;
/// assert!(types.matches("application/x-ndjson"));
/// assert!(types.matches("Text/HTML; charset=utf-8"));
/// assert!(types.matches("application/problem+json"));
/// assert!(!types.matches("image/png"));
/// assert!(!types.matches("application/zip"));
/// # Ok::<(), strata_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentTypes {
    entries: Vec<Pattern>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    AnySubtype(String),
    Suffix(String),
}

const DEFAULTS: &[&str] = &[
    "text/*",
    "*/*+json",
    "*/*+xml",
    "application/json",
    "application/javascript",
    "application/x-javascript",
    "application/ecmascript",
    "application/xml",
    "application/wasm",
    "application/yaml",
    "application/x-yaml",
    "application/toml",
    "application/graphql",
    "application/x-ndjson",
    "application/x-www-form-urlencoded",
    "application/vnd.ms-fontobject",
    "font/ttf",
    "font/otf",
    "font/collection",
    "image/svg+xml",
    "image/x-icon",
    "image/vnd.microsoft.icon",
    "image/bmp",
];

impl Default for ContentTypes {
    fn default() -> Self {
        let mut types = Self::empty();
        for entry in DEFAULTS {
            if let Some(pattern) = Pattern::parse(entry) {
                types.entries.push(pattern);
            }
        }
        types
    }
}

impl Pattern {
    fn parse(entry: &str) -> Option<Self> {
        let entry = entry.trim().to_ascii_lowercase();
        let (kind, subtype) = entry.split_once('/')?;
        let valid = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        };
        if kind == "*" {
            let suffix = subtype.strip_prefix("*+")?;
            return valid(suffix).then(|| Self::Suffix(format!("+{suffix}")));
        }
        if !valid(kind) {
            return None;
        }
        if subtype == "*" {
            return Some(Self::AnySubtype(format!("{kind}/")));
        }
        valid(subtype).then_some(Self::Exact(entry))
    }

    fn matches(&self, essence: &str) -> bool {
        match self {
            Self::Exact(exact) => essence == exact,
            Self::AnySubtype(prefix) => essence.starts_with(prefix.as_str()),
            Self::Suffix(suffix) => essence.ends_with(suffix.as_str()),
        }
    }
}

impl ContentTypes {
    /// An empty list: nothing is compressed until entries are added.
    pub fn empty() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// Adds an entry (`type/subtype`, `type/*` or `*/*+suffix`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] when the entry is not one of those forms.
    pub fn allow(mut self, entry: &str) -> Result<Self, ConfigError> {
        let pattern = Pattern::parse(entry).ok_or(ConfigError::OutOfRange {
            name: "compressible content type",
            reason: "expected `type/subtype`, `type/*` or `*/*+suffix`",
        })?;
        self.entries.push(pattern);
        Ok(self)
    }

    /// Removes an entry exactly as it was added (`"image/svg+xml"`,
    /// `"text/*"`), if present.
    #[must_use]
    pub fn remove(mut self, entry: &str) -> Self {
        if let Some(pattern) = Pattern::parse(entry) {
            self.entries.retain(|existing| *existing != pattern);
        }
        self
    }

    /// Whether a `Content-Type` value is on the list.
    pub fn matches(&self, content_type: &str) -> bool {
        let essence = essence(content_type);
        if essence.is_empty() {
            return false;
        }
        let essence = essence.to_ascii_lowercase();
        self.entries.iter().any(|pattern| pattern.matches(&essence))
    }
}

/// The `type/subtype` part of a media type, without parameters.
pub(crate) fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_list_allows_text_and_refuses_compressed_formats() {
        let types = ContentTypes::default();
        for yes in [
            "text/html",
            "text/plain; charset=utf-8",
            "application/json",
            "APPLICATION/JSON",
            "application/vnd.api+json",
            "application/javascript",
            "image/svg+xml",
            "application/wasm",
            "application/atom+xml",
        ] {
            assert!(types.matches(yes), "{yes} should be compressible");
        }
        for no in [
            "",
            "image/png",
            "image/webp",
            "video/mp4",
            "application/zip",
            "application/pdf",
            "font/woff2",
            "application/octet-stream",
            "application/grpc",
            "garbage",
        ] {
            assert!(!types.matches(no), "{no} should not be compressible");
        }
    }

    #[test]
    fn invalid_entries_fail_at_build_time() {
        assert!(ContentTypes::empty().allow("json").is_err());
        assert!(ContentTypes::empty().allow("*/*").is_err());
        assert!(ContentTypes::empty().allow("text/ html").is_err());
        let types = ContentTypes::empty()
            .allow("application/x-custom")
            .expect("valid");
        assert!(types.matches("application/x-custom; v=1"));
        assert!(!types.matches("text/html"));
    }

    #[test]
    fn remove_takes_an_entry_off() {
        let types = ContentTypes::default()
            .remove("image/svg+xml")
            .remove("*/*+xml");
        assert!(!types.matches("image/svg+xml"));
        assert!(types.matches("application/xml"));
    }
}
