//! Per-response CSP nonces.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rand::RngCore as _;

/// Random bytes in a nonce: 128 bits, the minimum CSP Level 3 asks for.
pub const NONCE_BYTES: usize = 16;

/// The CSP nonce of one response: 128 bits from a CSPRNG seeded by the
/// operating system (`rand`'s thread-local ChaCha generator, reseeded from
/// the OS), base64-encoded.
///
/// [`SecurityHeadersLayer`](crate::SecurityHeadersLayer) puts one in the
/// request extensions when its policy uses [`Source::NONCE`](crate::Source::NONCE),
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
/// The layer's nonce is drawn the first time it is read ([`as_str`](Self::as_str),
/// `Display`), so a response whose handler never reads it costs no
/// randomness; its policy then has no nonce source, which allows no inline
/// script or style. Read it before the handler returns its response: once
/// the headers are written, a nonce not read yet stays empty for good (a
/// late `nonce=""` allows nothing).
///
/// With the `axum` feature, `CspNonce` is an extractor; it answers 500 when
/// the layer is missing or its policy uses no nonce, so a page never renders
/// with a nonce the header does not carry.
#[derive(Clone)]
pub struct CspNonce(Arc<OnceLock<Box<str>>>);

impl CspNonce {
    /// A fresh nonce, or `None` if the operating system's random source fails
    /// (the layer then omits the nonce and logs an error; scripts relying on it
    /// are blocked, never allowed).
    pub fn generate() -> Option<Self> {
        let text = draw()?;
        Some(Self(Arc::new(OnceLock::from(text))))
    }

    /// A nonce drawn when first read.
    pub(crate) fn lazy() -> Self {
        Self(Arc::new(OnceLock::new()))
    }

    /// The base64 text to put in a `nonce="..."` attribute. It contains only
    /// `A-Z a-z 0-9 + /`, so it needs no HTML escaping. Empty when the random
    /// source failed, or when read only after the response's headers were
    /// written.
    pub fn as_str(&self) -> &str {
        self.0.get_or_init(|| draw().unwrap_or_default())
    }

    /// Ends the chance to draw: the nonce if it was read, else `None` (and it
    /// stays empty).
    pub(crate) fn seal(&self) -> Option<&str> {
        Some(&**self.0.get_or_init(Box::default)).filter(|text| !text.is_empty())
    }
}

/// 128 random bits, base64-encoded; `None` (logged) if the OS random source
/// fails.
fn draw() -> Option<Box<str>> {
    // `ThreadRng` panics only when the OS random source cannot seed it: keep
    // that panic off the request path.
    let bytes = std::panic::catch_unwind(|| {
        let mut bytes = [0_u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        bytes
    });
    match bytes {
        Ok(bytes) => Some(STANDARD_NO_PAD.encode(bytes).into_boxed_str()),
        Err(_) => {
            tracing::error!("the OS random source failed: this response's CSP carries no nonce");
            None
        }
    }
}

impl PartialEq for CspNonce {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for CspNonce {}

impl Hash for CspNonce {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Display for CspNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
