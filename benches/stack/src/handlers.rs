//! The two routes: `bare` (the handlers alone) and `bare-headers` (the
//! handlers answering, as static values, what the strata stack answers).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, DATE};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::BoxError;
use crate::body::{LARGE_CACHE_CONTROL, SMALL};
use crate::request::{Route, request};

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// `GET /small` and `GET /large` answered by the handlers alone; `/large`
/// carries `Cache-Control: public, max-age=60`, `/small` no caching header.
pub(crate) fn router(large: Bytes) -> Router {
    Router::new()
        .route(
            "/small",
            get(|| async { ([(CONTENT_TYPE, JSON)], SMALL).into_response() }),
        )
        .route(
            "/large",
            get(move || {
                let large = large.clone();
                async move {
                    let headers = [
                        (CONTENT_TYPE, JSON),
                        (CACHE_CONTROL, HeaderValue::from_static(LARGE_CACHE_CONTROL)),
                    ];
                    (headers, large).into_response()
                }
            }),
        )
}

/// A response recorded once: status, headers (without `date` and
/// `content-length`, which the server writes) and body bytes.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Recorded {
    /// Sends `route`'s benchmark request through `app` and records the
    /// answer.
    pub(crate) async fn take(app: &Router, route: Route) -> Result<Self, BoxError> {
        let response = app.clone().oneshot(request(route)).await?;
        let (parts, body) = response.into_parts();
        // In their order, as static values: a handler writing fixed headers
        // uses `from_static`, whose clones copy a pointer.
        let mut headers = HeaderMap::with_capacity(parts.headers.len());
        for (name, value) in &parts.headers {
            if name != DATE && name != CONTENT_LENGTH {
                headers.append(leak_name(name), leak_value(value)?);
            }
        }
        Ok(Self {
            status: parts.status,
            headers,
            body: body.collect().await?.to_bytes(),
        })
    }

    /// The recorded headers.
    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    fn response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// `name` as a static name (a standard one is already).
fn leak_name(name: &HeaderName) -> HeaderName {
    HeaderName::from_static(Box::leak(name.as_str().to_owned().into_boxed_str()))
}

/// `value` as a static value, leaked once at start.
fn leak_value(value: &HeaderValue) -> Result<HeaderValue, BoxError> {
    let text = value.to_str()?.to_owned();
    Ok(HeaderValue::from_static(Box::leak(text.into_boxed_str())))
}

/// `bare-headers`: each handler writes the recorded strata answer to the
/// benchmark's request on its route: the same header bytes and, on `/large`,
/// the same (compressed) body, with no middleware at work. The floor for
/// those bytes on the wire.
pub(crate) fn recorded_router(small: Recorded, large: Recorded) -> Router {
    // axum clones a handler per request: share the recordings.
    let (small, large) = (Arc::new(small), Arc::new(large));
    Router::new()
        .route("/small", get(move || std::future::ready(small.response())))
        .route("/large", get(move || std::future::ready(large.response())))
}
