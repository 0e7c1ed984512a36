//! Every refusal the server sends is `application/problem+json`, and none
//! repeats what the client sent.
//!
//! Handlers answer problems themselves; [`ensure_problem`] rewrites what
//! the framework and the layers below it answer in other formats (axum's
//! text/plain path and method rejections, tower-http's body-limit 413).

use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::http;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::Response;
use bytes::Bytes;
use strata::core::Problem;

use crate::app::BoxError;

/// Media types already fit to send as an error body.
const FIT: [&str; 2] = ["application/problem+json", "application/health+json"];

/// Rewrites an error response whose body is not problem+json (or
/// health+json) into a problem of the same status, keeping its other
/// headers (`Allow`, the security headers...).
pub(crate) async fn ensure_problem<B>(response: http::Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response.map(Body::new);
    }
    let fit = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| FIT.iter().any(|fit| value.starts_with(fit)));
    if fit {
        return response.map(Body::new);
    }
    let (mut parts, _) = response.into_parts();
    let (problem, body) = Problem::new(status)
        .detail(detail(status))
        .into_response()
        .into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    if let Some(content_type) = problem.headers.get(CONTENT_TYPE) {
        parts.headers.insert(CONTENT_TYPE, content_type.clone());
    }
    Response::from_parts(parts, body)
}

/// A fixed explanation per status: never the client's input.
fn detail(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "the request is malformed",
        StatusCode::NOT_FOUND => "no such resource",
        StatusCode::METHOD_NOT_ALLOWED => "this resource does not answer that method",
        StatusCode::REQUEST_TIMEOUT => "the request body did not arrive in time",
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "the request body has an unsupported media type",
        _ if status.is_server_error() => "the server could not answer this request",
        _ => "the request was refused",
    }
}

/// The problem for a JSON body that could not be read or parsed: 408 when it
/// did not arrive in time, 413 when it was too large, else axum's status
/// with a fixed detail (serde's messages quote the input).
pub(crate) fn json_rejection(rejection: &JsonRejection) -> Response {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(error) = source {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return problem(
                StatusCode::REQUEST_TIMEOUT,
                detail(StatusCode::REQUEST_TIMEOUT),
            );
        }
        if error.is::<http_body_util::LengthLimitError>() {
            return problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                detail(StatusCode::PAYLOAD_TOO_LARGE),
            );
        }
        source = error.source();
    }
    let (status, text) = match rejection {
        JsonRejection::JsonDataError(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "the JSON body does not have the expected fields and types",
        ),
        JsonRejection::JsonSyntaxError(_) => {
            (StatusCode::BAD_REQUEST, "the body is not valid JSON")
        }
        JsonRejection::MissingJsonContentType(_) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be application/json",
        ),
        other => (other.status(), detail(other.status())),
    };
    problem(status, text)
}

fn problem(status: StatusCode, detail: &'static str) -> Response {
    Problem::new(status).detail(detail).into_response()
}

/// A field outside its documented bounds: 422 naming it.
pub(crate) fn invalid_field(field: &'static str, rule: &'static str) -> Response {
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
        .detail(rule)
        .extension("field", field)
        .into_response()
}

/// 503: the session store could not be reached.
pub(crate) fn unavailable() -> Response {
    Problem::new(StatusCode::SERVICE_UNAVAILABLE)
        .title("Session store unavailable")
        .detail("sessions cannot be read or saved right now; try again shortly")
        .into_response()
}
