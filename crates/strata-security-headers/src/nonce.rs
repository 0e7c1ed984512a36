//! Per-response CSP nonces.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;

/// Random bytes in a nonce: 128 bits, the minimum CSP Level 3 asks for.
pub const NONCE_BYTES: usize = 16;

/// The CSP nonce of one response: 128 bits from the operating system's CSPRNG,
/// base64-encoded.
///
/// [`SecurityHeadersLayer`](crate::SecurityHeadersLayer) puts a fresh one in
/// the request extensions when its policy uses [`Source::NONCE`](crate::Source::NONCE),
/// and writes the same value into the `Content-Security-Policy` header of the
/// response. Templates put it on inline `<script>` and `<style>` elements:
///
/// ```
/// use strata_security_headers::CspNonce;
///
/// fn page(nonce: &CspNonce) -> String {
///     format!(r#"<script nonce="{nonce}">console.log("hi")</script>"#)
/// }
/// let nonce = CspNonce::generate().expect("the OS has randomness");
/// assert!(page(&nonce).contains(nonce.as_str()));
/// ```
///
/// With the `axum` feature, `CspNonce` is an extractor; it answers 500 when
/// the layer is missing or its policy uses no nonce, so a page never renders
/// with a nonce the header does not carry.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CspNonce(Arc<str>);

impl CspNonce {
    /// A fresh nonce, or `None` if the operating system's random source fails
    /// (the layer then omits the nonce and logs an error; scripts relying on it
    /// are blocked, never allowed).
    pub fn generate() -> Option<Self> {
        let mut bytes = [0_u8; NONCE_BYTES];
        getrandom::getrandom(&mut bytes).ok()?;
        Some(Self(Arc::from(STANDARD_NO_PAD.encode(bytes))))
    }

    /// The base64 text to put in a `nonce="..."` attribute. It contains only
    /// `A-Z a-z 0-9 + /`, so it needs no HTML escaping.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CspNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CspNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A nonce is not a secret once sent, but keep it out of request dumps.
        f.write_str("CspNonce(..)")
    }
}

#[cfg(feature = "axum")]
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CspNonce {
    type Rejection = strata_core::Problem;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CspNonce>().cloned().ok_or_else(|| {
            strata_core::Problem::new(http::StatusCode::INTERNAL_SERVER_ERROR).detail(
                "no CSP nonce: the security headers layer is missing or its policy uses none",
            )
        })
    }
}
