//! Reading the title and detail of a small problem+json response.

use bytes::Bytes;
use http::Response;
use http::header::CONTENT_TYPE;
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use strata_core::PROBLEM_JSON;
use strata_core::headers::essence;

use crate::report::ProblemText;

/// Whether the response is problem+json of a known size within `max`.
pub(crate) fn readable<B: Body>(response: &Response<B>, max: usize) -> bool {
    let is_problem = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| essence(value).eq_ignore_ascii_case(PROBLEM_JSON));
    let hint = response.body().size_hint();
    is_problem && hint.upper().is_some_and(|upper| upper <= max as u64)
}

/// The response, rebuilt with the bytes read, and what the problem says.
/// A body that fails or outgrows `max` is answered empty.
pub(crate) async fn read<B>(response: Response<B>, max: usize) -> (Response<B>, Option<ProblemText>)
where
    B: Body + From<Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = response.into_parts();
    let Ok(collected) = Limited::new(body, max).collect().await else {
        tracing::warn!("strata-sentry: a problem+json body failed while read; answered empty");
        return (Response::from_parts(parts, B::from(Bytes::new())), None);
    };
    let bytes = collected.to_bytes();
    let text = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .map(|document| ProblemText {
            title: string(&document, "title"),
            detail: string(&document, "detail"),
        });
    (Response::from_parts(parts, B::from(bytes)), text)
}

fn string(document: &serde_json::Value, member: &str) -> Option<String> {
    document.get(member)?.as_str().map(str::to_owned)
}
