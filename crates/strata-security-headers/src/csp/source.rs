//! [`Source`]: one source expression.

/// One source expression of a CSP directive.
///
/// Keywords are constants and always quoted correctly; hosts, schemes and
/// hashes are checked when the policy is [built](crate::CspBuilder::build). Strings
/// convert too (`"'self'"`, `"https://cdn.example.com"`, `"data:"`), with the
/// same checks: an unquoted keyword such as `self`, a static `'nonce-...'`, or
/// any `;`, `,`, whitespace or control character is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source(pub(super) Repr);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Repr {
    Keyword(&'static str),
    Nonce,
    Text(String),
}

impl Source {
    /// `'self'`: the page's own origin.
    pub const SELF: Self = Self(Repr::Keyword("'self'"));
    /// `'none'`: nothing. Must be the only source of its directive.
    pub const NONE: Self = Self(Repr::Keyword("'none'"));
    /// `'unsafe-inline'`. Ignored by browsers when a nonce or hash is present.
    pub const UNSAFE_INLINE: Self = Self(Repr::Keyword("'unsafe-inline'"));
    /// `'unsafe-eval'`.
    pub const UNSAFE_EVAL: Self = Self(Repr::Keyword("'unsafe-eval'"));
    /// `'wasm-unsafe-eval'`: WebAssembly compilation without `eval`.
    pub const WASM_UNSAFE_EVAL: Self = Self(Repr::Keyword("'wasm-unsafe-eval'"));
    /// `'unsafe-hashes'`: hashes also allow event-handler attributes.
    pub const UNSAFE_HASHES: Self = Self(Repr::Keyword("'unsafe-hashes'"));
    /// `'strict-dynamic'`: scripts loaded by a trusted (nonced) script are
    /// trusted; host and scheme sources are ignored.
    pub const STRICT_DYNAMIC: Self = Self(Repr::Keyword("'strict-dynamic'"));
    /// `'report-sample'`: reports carry the first 40 characters of the
    /// blocked code.
    pub const REPORT_SAMPLE: Self = Self(Repr::Keyword("'report-sample'"));
    /// `'inline-speculation-rules'`.
    pub const INLINE_SPECULATION_RULES: Self = Self(Repr::Keyword("'inline-speculation-rules'"));
    /// `'nonce-...'` with a fresh [`CspNonce`](crate::CspNonce) for every response. Allowed in
    /// `default-src` and the script and style directives.
    pub const NONCE: Self = Self(Repr::Nonce);

    /// A scheme source: `"https"` or `"https:"` give `https:`.
    pub fn scheme(scheme: &str) -> Self {
        let scheme = scheme.strip_suffix(':').unwrap_or(scheme);
        Self(Repr::Text(format!("{scheme}:")))
    }

    /// A host source such as `https://cdn.example.com`, `*.example.com` or
    /// `http://localhost:*`.
    pub fn host(host: impl Into<String>) -> Self {
        Self(Repr::Text(host.into()))
    }

    /// A `'sha256-...'` hash source; `digest` is the base64 digest.
    pub fn sha256(digest: &str) -> Self {
        Self(Repr::Text(format!("'sha256-{digest}'")))
    }

    /// A `'sha384-...'` hash source.
    pub fn sha384(digest: &str) -> Self {
        Self(Repr::Text(format!("'sha384-{digest}'")))
    }

    /// A `'sha512-...'` hash source.
    pub fn sha512(digest: &str) -> Self {
        Self(Repr::Text(format!("'sha512-{digest}'")))
    }
}

impl From<&str> for Source {
    fn from(text: &str) -> Self {
        Self(Repr::Text(text.to_owned()))
    }
}

impl From<String> for Source {
    fn from(text: String) -> Self {
        Self(Repr::Text(text))
    }
}
