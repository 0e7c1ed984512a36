//! [`RequestDecompression`]: the service.

use std::sync::Arc;
use std::sync::atomic::AtomicU8;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body::Body;
use strata_core::Problem;
use tower_service::Service;

use super::body::{self, DecompressionBody};
use super::config::Settings;
use super::future::{DecompressionResponseBody, ResponseFuture};
use crate::BoxError;
use crate::codec::{Decoder, Encoding};

/// Decodes request bodies for `S` (see
/// [`RequestDecompressionLayer`](super::RequestDecompressionLayer)).
#[derive(Debug, Clone)]
pub struct RequestDecompression<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> RequestDecompression<S> {
    pub(super) fn new(inner: S, settings: Arc<Settings>) -> Self {
        Self { inner, settings }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
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
    type Future = ResponseFuture<S::Future>;

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
                ResponseFuture::inner(future, Some((outcome, self.settings.max_size)))
            }
            (Coding::Identity, _) => {
                let future = self.inner.call(request.map(DecompressionBody::passthrough));
                ResponseFuture::inner(future, None)
            }
            _ => ResponseFuture::rejected(self.settings.unsupported()),
        }
    }
}
