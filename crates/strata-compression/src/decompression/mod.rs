//! Request decompression: [`RequestDecompressionLayer`].

mod body;
mod future;

use std::sync::Arc;
use std::sync::atomic::AtomicU8;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body::Body;
use strata_core::{ConfigError, Problem};
use tower_layer::Layer;
use tower_service::Service;

pub use self::body::{DecompressedTooLarge, DecompressionBody};
pub use self::future::{DecompressionFuture, DecompressionResponseBody};

use crate::BoxError;
use crate::codec::{Decoder, Encoding};

/// Default [`RequestDecompressionBuilder::max_size`]: 8 MiB of decoded body.
pub const DEFAULT_MAX_DECOMPRESSED_SIZE: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
struct Settings {
    enabled: [bool; 4],
    max_size: u64,
}

/// Decodes `Content-Encoding` request bodies: the [`Layer`] producing
/// [`RequestDecompression`] services.
///
/// - br, zstd, gzip (and `x-gzip`) and deflate bodies, per compiled feature,
///   are decoded as the handler reads them; `Content-Encoding` and
///   `Content-Length` are removed from the request.
/// - No `Content-Encoding`, or `identity`: the request passes untouched.
/// - Any other coding, or several codings stacked: **415** problem+json with
///   `Accept-Encoding` listing what is supported; the handler is not called.
/// - A decoded body larger than the cap
///   ([`max_size`](RequestDecompressionBuilder::max_size), default 8 MiB):
///   the body errors with [`DecompressedTooLarge`] as soon as the cap is
///   passed and the response is **413** problem+json, whatever the handler
///   answered. Decoding is incremental, at most 32 KiB at a time and never
///   more than one byte past the cap in all, so a body that expands to
///   gigabytes never allocates its output.
/// - A corrupt or truncated body: **400** problem+json.
///
/// # Body limits
///
/// The cap counts **decoded** bytes, the bytes the handler reads, whatever
/// layers sit around this one. A body limit outside this layer (such as
/// tower-http's `RequestBodyLimitLayer`) counts the **encoded** bytes on the
/// wire, so a few kilobytes of gzip pass it and decode to megabytes. Set the
/// cap to the body limit of the application:
///
/// ```
/// use strata_compression::RequestDecompressionLayer;
///
/// const MAX_BODY: u64 = 64 * 1024;
/// let layer = RequestDecompressionLayer::builder()
///     .max_size(MAX_BODY)
///     .build()?;
/// # let _ = layer;
/// # Ok::<(), strata_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RequestDecompressionLayer {
    settings: Arc<Settings>,
}

impl Default for RequestDecompressionLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestDecompressionLayer {
    /// Every compiled coding, an 8 MiB cap.
    pub fn new() -> Self {
        Self {
            settings: Arc::new(RequestDecompressionBuilder::default().settings),
        }
    }

    /// A builder starting from the default settings.
    pub fn builder() -> RequestDecompressionBuilder {
        RequestDecompressionBuilder::default()
    }

    /// The cap on decoded bytes per request body.
    pub fn max_size(&self) -> u64 {
        self.settings.max_size
    }
}

/// Settings for a [`RequestDecompressionLayer`], checked by
/// [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct RequestDecompressionBuilder {
    settings: Settings,
}

impl Default for RequestDecompressionBuilder {
    fn default() -> Self {
        Self {
            settings: Settings {
                enabled: Encoding::ALL.map(Encoding::is_compiled),
                max_size: DEFAULT_MAX_DECOMPRESSED_SIZE,
            },
        }
    }
}

macro_rules! decode_setters {
    ($($encoding:ident, $on:ident, $off:ident, $name:literal;)*) => {$(
        #[doc = concat!("Decodes ", $name, " bodies (default: on when its feature is; no effect when it is off).")]
        pub fn $on(mut self, enable: bool) -> Self {
            let encoding = Encoding::$encoding;
            self.settings.enabled[encoding.index()] = enable && encoding.is_compiled();
            self
        }

        #[doc = concat!("Refuses ", $name, " bodies with 415.")]
        pub fn $off(self) -> Self {
            self.$on(false)
        }
    )*};
}

impl RequestDecompressionBuilder {
    /// The most decoded bytes a request body may have (default 8 MiB). Set
    /// it to the application's body limit: a limit outside this layer only
    /// sees encoded bytes. Must be at least 1, checked by
    /// [`build`](Self::build).
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.settings.max_size = bytes;
        self
    }

    decode_setters! {
        Br, br, no_br, "Brotli (`br`)";
        Zstd, zstd, no_zstd, "Zstandard (`zstd`)";
        Gzip, gzip, no_gzip, "gzip";
        Deflate, deflate, no_deflate, "deflate";
    }

    /// Checks the settings and builds the layer.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] for a `max_size` of 0, which would refuse
    /// every encoded body.
    pub fn build(self) -> Result<RequestDecompressionLayer, ConfigError> {
        if self.settings.max_size == 0 {
            return Err(ConfigError::OutOfRange {
                name: "max_size",
                reason: "the decoded body cap must be at least 1 byte",
            });
        }
        Ok(RequestDecompressionLayer {
            settings: Arc::new(self.settings),
        })
    }
}

impl<S> Layer<S> for RequestDecompressionLayer {
    type Service = RequestDecompression<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestDecompression {
            inner,
            settings: Arc::clone(&self.settings),
        }
    }
}

/// Decodes request bodies for `S` (see [`RequestDecompressionLayer`]).
#[derive(Debug, Clone)]
pub struct RequestDecompression<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> RequestDecompression<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

enum Coding {
    Identity,
    Decode(Encoding),
    Unsupported,
}

impl Settings {
    fn coding(&self, request_headers: &http::HeaderMap) -> Coding {
        let mut values = request_headers.get_all(CONTENT_ENCODING).iter();
        let Some(value) = values.next() else {
            return Coding::Identity;
        };
        if values.next().is_some() {
            return Coding::Unsupported;
        }
        let Ok(value) = value.to_str() else {
            return Coding::Unsupported;
        };
        let value = value.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("identity") {
            return Coding::Identity;
        }
        match Encoding::from_token(value) {
            Some(encoding) if self.enabled[encoding.index()] => Coding::Decode(encoding),
            _ => Coding::Unsupported,
        }
    }

    fn unsupported(&self) -> Response<Bytes> {
        let supported: Vec<&str> = Encoding::ALL
            .into_iter()
            .filter(|e| self.enabled[e.index()])
            .map(Encoding::as_str)
            .collect();
        let mut response = Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            .detail("the request's Content-Encoding is not supported")
            .extension("supported", &supported)
            .into_response::<Bytes>();
        let list = if supported.is_empty() {
            "identity".to_owned()
        } else {
            supported.join(", ")
        };
        if let Ok(value) = HeaderValue::from_str(&list) {
            response.headers_mut().insert(ACCEPT_ENCODING, value);
        }
        response
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequestDecompression<S>
where
    S: Service<Request<DecompressionBody<ReqBody>>, Response = Response<ResBody>>,
    ReqBody: Body,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<DecompressionResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = DecompressionFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let coding = self.settings.coding(request.headers());
        let decoder = match coding {
            Coding::Identity => None,
            Coding::Decode(encoding) => Decoder::new(encoding),
            Coding::Unsupported => None,
        };
        match (coding, decoder) {
            (Coding::Decode(_), Some(decoder)) => {
                let (mut parts, body) = request.into_parts();
                parts.headers.remove(CONTENT_ENCODING);
                parts.headers.remove(CONTENT_LENGTH);
                let outcome = Arc::new(AtomicU8::new(body::OK));
                let body = DecompressionBody::decode(
                    body,
                    decoder,
                    self.settings.max_size,
                    Arc::clone(&outcome),
                );
                let future = self.inner.call(Request::from_parts(parts, body));
                DecompressionFuture::inner(future, Some((outcome, self.settings.max_size)))
            }
            (Coding::Identity, _) => {
                let future = self.inner.call(request.map(DecompressionBody::passthrough));
                DecompressionFuture::inner(future, None)
            }
            _ => DecompressionFuture::rejected(self.settings.unsupported()),
        }
    }
}
