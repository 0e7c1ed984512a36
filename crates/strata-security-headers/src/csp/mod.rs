//! A typed Content-Security-Policy, validated when it is built.

mod presets;
mod source;
mod validate;

use std::fmt;

use http::HeaderValue;

use strata_core::ConfigError;

use self::source::Repr;
pub use self::source::Source;
use crate::CspNonce;

/// Builds a [`ContentSecurityPolicy`]; setters never fail, and nothing is
/// checked until [`build`](Self::build), which reports the first problem as
/// [`ConfigError::Invalid`] naming the setter (`script_src`, `report_to`,
/// ...; `directive` for a directive set by name).
///
/// Setting a directive again replaces its sources (so a preset can be
/// adjusted); [`append`](Self::append) adds to them.
///
/// ```
/// use strata_security_headers::{CspBuilder, Source};
///
/// let policy = CspBuilder::new()
///     .default_src([Source::SELF])
///     .script_src([Source::NONCE, Source::STRICT_DYNAMIC])
///     .img_src([Source::SELF, Source::scheme("data")])
///     .object_src([Source::NONE])
///     .report_to("csp")
///     .build()?;
/// assert!(policy.uses_nonce());
/// assert_eq!(
///     policy.to_string(),
///     "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; \
///      img-src 'self' data:; object-src 'none'; report-to csp"
/// );
///
/// // Injection and quoting mistakes are refused when the policy is built.
/// use strata_core::ConfigError;
/// let injected = CspBuilder::new().default_src(["'self'; script-src *"]).build();
/// assert!(matches!(injected, Err(ConfigError::Invalid { setting: "default_src", .. })));
/// let unquoted = CspBuilder::new().default_src(["self"]).build();
/// assert!(matches!(unquoted, Err(ConfigError::Invalid { setting: "default_src", .. })));
/// let no_default = CspBuilder::new().script_src([Source::SELF]).build();
/// assert!(matches!(no_default, Err(ConfigError::Invalid { setting: "default_src", .. })));
/// # Ok::<(), strata_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct CspBuilder {
    directives: Vec<(String, Value)>,
    waive_default_src: bool,
}

#[derive(Debug, Clone)]
enum Value {
    Sources(Vec<Source>),
    Tokens(Vec<String>),
    Flag,
}

macro_rules! source_directives {
    ($($(#[$doc:meta])* $method:ident => $name:literal,)*) => {
        $(
            $(#[$doc])*
            pub fn $method<I>(self, sources: I) -> Self
            where
                I: IntoIterator,
                I::Item: Into<Source>,
            {
                self.directive($name, sources)
            }
        )*
    };
}

impl CspBuilder {
    /// An empty policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a source-list directive by name (`"script-src"`, `"base-uri"`,
    /// ...). Unknown and deprecated names fail at [`build`](Self::build).
    pub fn directive<I>(mut self, name: &str, sources: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Source>,
    {
        let sources = sources.into_iter().map(Into::into).collect();
        self.set(name, Value::Sources(sources));
        self
    }

    /// Adds sources to a source-list directive, creating it if absent.
    pub fn append<I>(mut self, name: &str, sources: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Source>,
    {
        let name = name.to_ascii_lowercase();
        let more = sources.into_iter().map(Into::into);
        match self.directives.iter_mut().find(|(n, _)| *n == name) {
            Some((_, Value::Sources(list))) => list.extend(more),
            _ => self.set(&name, Value::Sources(more.collect())),
        }
        self
    }

    /// Removes a directive, for example from a preset.
    pub fn remove(mut self, name: &str) -> Self {
        self.directives
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    source_directives! {
        /// `default-src`: the fallback for every fetch directive. Required
        /// unless [waived](Self::waive_default_src).
        default_src => "default-src",
        /// `script-src`.
        script_src => "script-src",
        /// `script-src-elem`.
        script_src_elem => "script-src-elem",
        /// `script-src-attr`: inline event handlers.
        script_src_attr => "script-src-attr",
        /// `style-src`.
        style_src => "style-src",
        /// `style-src-elem`.
        style_src_elem => "style-src-elem",
        /// `style-src-attr`: `style="..."` attributes.
        style_src_attr => "style-src-attr",
        /// `img-src`.
        img_src => "img-src",
        /// `font-src`.
        font_src => "font-src",
        /// `connect-src`: fetch, XHR, WebSocket, EventSource.
        connect_src => "connect-src",
        /// `media-src`.
        media_src => "media-src",
        /// `object-src`: plugins; `'none'` is the safe value.
        object_src => "object-src",
        /// `frame-src`.
        frame_src => "frame-src",
        /// `child-src`.
        child_src => "child-src",
        /// `worker-src`.
        worker_src => "worker-src",
        /// `manifest-src`.
        manifest_src => "manifest-src",
        /// `base-uri`: where `<base href>` may point.
        base_uri => "base-uri",
        /// `form-action`: where forms may submit.
        form_action => "form-action",
        /// `frame-ancestors`: who may frame the page (supersedes
        /// `X-Frame-Options`). Only `'self'`, `'none'`, hosts and schemes.
        frame_ancestors => "frame-ancestors",
    }

    /// `upgrade-insecure-requests`: the browser fetches `http:` subresources
    /// over HTTPS.
    pub fn upgrade_insecure_requests(mut self) -> Self {
        self.set("upgrade-insecure-requests", Value::Flag);
        self
    }

    /// `sandbox` with these tokens (`allow-scripts`, `allow-forms`, ...).
    pub fn sandbox<I, T>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.set("sandbox", tokens_of(tokens));
        self
    }

    /// `report-to`: the Reporting API endpoint group violations go to; name it
    /// with [`SecurityHeadersBuilder::reporting_endpoint`](crate::SecurityHeadersBuilder::reporting_endpoint).
    pub fn report_to(mut self, group: impl Into<String>) -> Self {
        self.set("report-to", tokens_of([group]));
        self
    }

    /// `report-uri`: where browsers without the Reporting API post
    /// `application/csp-report` documents.
    pub fn report_uri(mut self, uri: impl Into<String>) -> Self {
        self.set("report-uri", tokens_of([uri]));
        self
    }

    /// `require-trusted-types-for 'script'`.
    pub fn require_trusted_types(mut self) -> Self {
        self.set(
            "require-trusted-types-for",
            Value::Tokens(vec!["'script'".to_owned()]),
        );
        self
    }

    /// Builds a policy without `default-src`. Only for policies that set every
    /// fetch directive they need on purpose.
    pub fn waive_default_src(mut self) -> Self {
        self.waive_default_src = true;
        self
    }

    /// Validates the policy and renders it once.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] for the first directive that is unknown,
    /// deprecated or malformed, a source that could inject policy syntax or
    /// is unquoted, a fixed nonce, or a missing `default-src` (setting
    /// `default_src`) unless [waived](Self::waive_default_src).
    pub fn build(self) -> Result<ContentSecurityPolicy, ConfigError> {
        self.render(true)
    }

    /// Renders a preset without checks; a failure gives `default-src 'none'`.
    pub(crate) fn build_unchecked(self) -> ContentSecurityPolicy {
        self.render(false)
            .unwrap_or_else(|_| ContentSecurityPolicy {
                pieces: vec!["default-src 'none'".to_owned()],
                fixed: Some(HeaderValue::from_static("default-src 'none'")),
                bare: HeaderValue::from_static("default-src 'none'"),
            })
    }

    fn render(self, check: bool) -> Result<ContentSecurityPolicy, ConfigError> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut has_default = false;
        for (index, (name, value)) in self.directives.iter().enumerate() {
            if check {
                validate::directive(name, value)?;
            }
            has_default |= name == "default-src";
            if index > 0 {
                text.push_str("; ");
            }
            text.push_str(name);
            match value {
                Value::Flag => {}
                Value::Tokens(tokens) => {
                    for token in tokens {
                        text.push(' ');
                        text.push_str(token);
                    }
                }
                Value::Sources(sources) => {
                    for source in sources {
                        text.push(' ');
                        match &source.0 {
                            Repr::Keyword(keyword) => text.push_str(keyword),
                            Repr::Text(value) => text.push_str(&normalise(value)),
                            Repr::Nonce => {
                                text.push_str("'nonce-");
                                pieces.push(std::mem::take(&mut text));
                                text.push('\'');
                            }
                        }
                    }
                }
            }
        }
        if check && !has_default && !self.waive_default_src {
            return Err(ConfigError::invalid(
                "default_src",
                "the policy has no `default-src`: add one, or call `waive_default_src()` if \
                 every fetch directive is set on purpose",
            ));
        }
        pieces.push(text);
        let fixed = match pieces.as_slice() {
            [only] => Some(HeaderValue::from_str(only).map_err(|_| {
                ConfigError::invalid("directive", "the policy is not a valid header value")
            })?),
            _ => None,
        };
        let bare = match &fixed {
            Some(fixed) => fixed.clone(),
            None => {
                let text = pieces.join("").replace(" 'nonce-'", "");
                HeaderValue::try_from(text).map_err(|_| {
                    ConfigError::invalid("directive", "the policy is not a valid header value")
                })?
            }
        };
        Ok(ContentSecurityPolicy {
            pieces,
            fixed,
            bare,
        })
    }

    fn set(&mut self, name: &str, value: Value) {
        let name = name.to_ascii_lowercase();
        match self.directives.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.directives.push((name, value)),
        }
    }
}

fn tokens_of<I, T>(tokens: I) -> Value
where
    I: IntoIterator<Item = T>,
    T: Into<String>,
{
    Value::Tokens(tokens.into_iter().map(Into::into).collect())
}

/// Keywords are case-insensitive; write them in lower case.
fn normalise(value: &str) -> String {
    if value.starts_with('\'') && !validate::is_hash(value) {
        value.to_ascii_lowercase()
    } else {
        value.to_owned()
    }
}

/// A validated Content-Security-Policy, rendered once; only the nonce is
/// filled in per response.
///
/// `Display` shows the policy with `{nonce}` where the nonce goes.
#[derive(Debug, Clone)]
pub struct ContentSecurityPolicy {
    /// The text around each nonce; more than one piece means nonces.
    pieces: Vec<String>,
    /// The header value when the policy has no nonce.
    fixed: Option<HeaderValue>,
    /// The header value without nonce sources (a response that drew none).
    bare: HeaderValue,
}

impl ContentSecurityPolicy {
    /// An empty [`CspBuilder`].
    pub fn builder() -> CspBuilder {
        CspBuilder::new()
    }

    /// Whether the policy contains [`Source::NONCE`].
    pub fn uses_nonce(&self) -> bool {
        self.fixed.is_none()
    }

    /// The header value for one response. Without a nonce (the policy uses
    /// none, or generation failed) nonce sources are left out, which blocks
    /// what they would have allowed.
    pub fn header_value(&self, nonce: Option<&CspNonce>) -> HeaderValue {
        self.header_value_with(nonce.map_or("", CspNonce::as_str))
    }

    /// [`header_value`](Self::header_value) with the nonce's text (`""` for
    /// none).
    pub(crate) fn header_value_with(&self, nonce: &str) -> HeaderValue {
        if let Some(fixed) = &self.fixed {
            return fixed.clone();
        }
        if nonce.is_empty() {
            return self.bare.clone();
        }
        let mut text = String::with_capacity(
            self.pieces.iter().map(String::len).sum::<usize>() + self.pieces.len() * nonce.len(),
        );
        for (index, piece) in self.pieces.iter().enumerate() {
            if index > 0 {
                text.push_str(nonce);
            }
            text.push_str(piece);
        }
        // Built from validated ASCII pieces and a base64 nonce.
        HeaderValue::try_from(text)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
    }
}

impl fmt::Display for ContentSecurityPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pieces.join("{nonce}"))
    }
}

/// Whether `name` is a current CSP directive (bounds metric labels).
#[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
pub(crate) fn is_known_directive(name: &str) -> bool {
    validate::is_known(name)
}

#[cfg(test)]
mod tests;
