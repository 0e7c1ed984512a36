//! [`SecurityHeadersLayer`]: the presets.

use std::sync::Arc;

use tower_layer::Layer;

use crate::compiled::Compiled;
use crate::config::{Preset, Settings};
use crate::{SecurityHeaders, SecurityHeadersBuilder};

/// Adds security headers to every response and strips headers that reveal the
/// server's software.
///
/// The presets are ready-made layers ([`strict`](Self::strict) =
/// [`new`](Self::new), [`api`](Self::api), [`development`](Self::development));
/// to adjust one, start a [`builder`](Self::builder) from it: every header
/// has a setter and an off switch, and `build()` compiles the headers once.
/// See the crate docs for the defaults and an example.
///
/// The layer is cheap to clone; its compiled headers sit behind an `Arc`.
#[derive(Debug, Clone)]
#[must_use]
pub struct SecurityHeadersLayer {
    compiled: Arc<Compiled>,
}

impl Default for SecurityHeadersLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl SecurityHeadersLayer {
    /// The production defaults for HTML apps; the same as [`strict`](Self::strict).
    pub fn new() -> Self {
        Self::strict()
    }

    /// For HTML apps ([`Preset::Strict`]): the strict nonce CSP
    /// ([`CspBuilder::strict`](crate::CspBuilder::strict)),
    /// HSTS over HTTPS, `X-Frame-Options: DENY`, COOP/CORP `same-origin`,
    /// `Origin-Agent-Cluster: ?1`, `Referrer-Policy: no-referrer`, `nosniff`,
    /// DNS prefetch off, `X-Permitted-Cross-Domain-Policies: none`,
    /// `X-XSS-Protection: 0`, a restrictive `Permissions-Policy`, and `Server`,
    /// `X-Powered-By` and similar headers removed. CSP and `X-Frame-Options`
    /// go on documents only (HTML, XHTML, SVG, XML, or no `Content-Type`).
    pub fn strict() -> Self {
        Self::from_settings(&Settings::preset(Preset::Strict))
    }

    /// For JSON APIs ([`Preset::Api`]): the strict headers with the CSP
    /// `default-src 'none'; frame-ancestors 'none'` on **every** response and
    /// no `Permissions-Policy` (nothing to grant to a JSON document).
    pub fn api() -> Self {
        Self::from_settings(&Settings::preset(Preset::Api))
    }

    /// For local development ([`Preset::Development`]): no HSTS (a browser
    /// would remember it for `localhost`), the development CSP
    /// ([`CspBuilder::development`](crate::CspBuilder::development):
    /// dev servers and websockets on localhost, nonce without
    /// `'strict-dynamic'`), `X-Frame-Options: SAMEORIGIN`. Never use it in
    /// production.
    pub fn development() -> Self {
        Self::from_settings(&Settings::preset(Preset::Development))
    }

    /// A builder starting from `preset`'s settings.
    pub fn builder(preset: Preset) -> SecurityHeadersBuilder {
        SecurityHeadersBuilder::new(preset)
    }

    /// Compiles settings that passed [`Settings::check`] (or a preset's).
    pub(crate) fn from_settings(settings: &Settings) -> Self {
        Self {
            compiled: Arc::new(settings.compile()),
        }
    }

    /// Whether responses will carry a per-response CSP nonce.
    pub fn uses_nonce(&self) -> bool {
        self.compiled.uses_nonce
    }
}

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SecurityHeaders::new(inner, Arc::clone(&self.compiled))
    }
}
