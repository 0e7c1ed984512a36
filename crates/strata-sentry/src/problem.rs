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

/// The body's bytes, at most `max`; `None` when it fails or outgrows `max`.
pub(crate) async fn read<B>(body: B, max: usize) -> Option<Bytes>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, max).collect().await {
        Ok(collected) => Some(collected.to_bytes()),
        Err(_) => {
            tracing::warn!("strata-sentry: a problem+json body failed while read; answered empty");
            None
        }
    }
}

/// What a problem document says.
pub(crate) fn text(bytes: &[u8]) -> Option<ProblemText> {
    let document = serde_json::from_slice::<serde_json::Value>(bytes).ok()?;
    let string = |member: &str| document.get(member)?.as_str().map(str::to_owned);
    Some(ProblemText {
        title: string("title"),
        detail: string("detail"),
    })
}
