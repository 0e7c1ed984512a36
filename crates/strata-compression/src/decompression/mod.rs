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
use strata_core::Problem;
use tower_layer::Layer;
use tower_service::Service;

pub use self::body::{DecompressedTooLarge, DecompressionBody};
pub use self::future::{DecompressionFuture, DecompressionResponseBody};

use crate::BoxError;
use crate::codec::{Decoder, Encoding};

/// Default [`RequestDecompressionLayer::max_size`]: 8 MiB of decoded body.
pub const DEFAULT_MAX_DECOMPRESSED_SIZE: u64 = 8 * 1024 * 1024;

#[derive(Debug)]
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
/// - A decoded body larger than [`max_size`](Self::max_size) (default
///   8 MiB): the body errors with [`DecompressedTooLarge`] as soon as the
///   cap is passed and the response is **413** problem+json, whatever the
///   handler answered. Decoding is incremental, 32 KiB at a time, so a body
///   that expands to gigabytes never allocates its output.
/// - A corrupt or truncated body: **400** problem+json.
#[derive(Debug, Clone)]
pub struct RequestDecompressionLayer {
    settings: Arc<Settings>,
}

impl Default for RequestDecompressionLayer {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! decode_setters {
    ($($encoding:ident, $on:ident, $off:ident, $name:literal;)*) => {$(
        #[doc = concat!("Decodes ", $name, " bodies (default: on when its feature is; no effect when it is off).")]
        #[must_use]
        pub fn $on(self, enable: bool) -> Self {
            self.set(Encoding::$encoding, enable)
        }

        #[doc = concat!("Refuses ", $name, " bodies with 415.")]
        #[must_use]
        pub fn $off(self) -> Self {
            self.$on(false)
        }
    )*};
}

impl RequestDecompressionLayer {
    /// Every compiled coding, an 8 MiB cap.
    pub fn new() -> Self {
        Self {
            settings: Arc::new(Settings {
                enabled: Encoding::ALL.map(Encoding::is_compiled),
                max_size: DEFAULT_MAX_DECOMPRESSED_SIZE,
            }),
        }
    }

    /// The most decoded bytes a request body may have.
    #[must_use]
    pub fn max_size(self, bytes: u64) -> Self {
        let enabled = self.settings.enabled;
        Self {
            settings: Arc::new(Settings {
                enabled,
                max_size: bytes,
            }),
        }
    }

    fn set(self, encoding: Encoding, enable: bool) -> Self {
        let mut enabled = self.settings.enabled;
        enabled[encoding.index()] = enable && encoding.is_compiled();
        Self {
            settings: Arc::new(Settings {
                enabled,
                max_size: self.settings.max_size,
            }),
        }
    }

    decode_setters! {
        Br, br, no_br, "Brotli (`br`)";
        Zstd, zstd, no_zstd, "Zstandard (`zstd`)";
        Gzip, gzip, no_gzip, "gzip";
        Deflate, deflate, no_deflate, "deflate";
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
