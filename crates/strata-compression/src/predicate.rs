//! Which media types are worth compressing.

use strata_core::ConfigError;
use strata_core::headers::essence;

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
/// let types = ContentTypes::default().allow("application/x-ndjson");
/// assert!(types.matches("application/x-ndjson"));
/// assert!(types.matches("Text/HTML; charset=utf-8"));
/// assert!(types.matches("application/problem+json"));
/// assert!(!types.matches("image/png"));
/// assert!(!types.matches("application/zip"));
/// ```
///
/// Entries are checked when the layer is built: an entry that is not one of
/// the forms above fails
/// [`CompressionBuilder::build`](crate::CompressionBuilder::build) with
/// [`ConfigError::Invalid`] for `content_types` (until then it matches
/// nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentTypes {
    entries: Vec<Pattern>,
    /// Entries that did not parse, as given, reported by `check`.
    rejected: Vec<String>,
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
            rejected: Vec::new(),
        }
    }

    /// Adds an entry (`type/subtype`, `type/*` or `*/*+suffix`). An entry
    /// of another form fails the layer's `build()` (see the type's docs).
    #[must_use]
    pub fn allow(mut self, entry: &str) -> Self {
        match Pattern::parse(entry) {
            Some(pattern) => self.entries.push(pattern),
            None => self.rejected.push(entry.to_owned()),
        }
        self
    }

    /// The first entry that did not parse, as [`ConfigError::Invalid`] for
    /// `content_types`.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        match self.rejected.first() {
            Some(entry) => Err(ConfigError::invalid(
                "content_types",
                format!("`{entry}` is not `type/subtype`, `type/*` or `*/*+suffix`"),
            )),
            None => Ok(()),
        }
    }

    /// Removes an entry exactly as it was added (`"image/svg+xml"`,
    /// `"text/*"`), if present.
    #[must_use]
    pub fn remove(mut self, entry: &str) -> Self {
        match Pattern::parse(entry) {
            Some(pattern) => self.entries.retain(|existing| *existing != pattern),
            None => self.rejected.retain(|existing| existing != entry),
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
    fn invalid_entries_are_reported_by_check_not_by_allow() {
        for bad in ["json", "*/*", "text/ html"] {
            let types = ContentTypes::empty().allow(bad).allow("text/plain");
            let result = types.check();
            assert!(
                matches!(&result, Err(ConfigError::Invalid { setting: "content_types", reason })
                    if reason.contains(bad)),
                "{bad}: {result:?}"
            );
            // The valid entries after it still count.
            assert!(types.matches("text/plain"));
        }
        let types = ContentTypes::empty().allow("application/x-custom");
        assert!(matches!(types.check(), Ok(())));
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
