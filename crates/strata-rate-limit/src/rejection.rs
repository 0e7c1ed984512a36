//! The response to a refused request.

use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use strata_core::Problem;

use crate::Decision;

/// The problem type of a 429: `quota-exceeded` from the IANA HTTP Problem
/// Types registry (defined by the rate-limit headers draft).
pub const QUOTA_EXCEEDED: &str = "https://iana.org/assignments/http-problem-types#quota-exceeded";

/// Why a request was refused. The layer puts a clone in the refusal's
/// response extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// A policy's quota is used up (429).
    Limited(Box<Decision>),
    /// The store is unreachable and the outage policy is
    /// [`OnStoreError::FailClosed`](crate::OnStoreError::FailClosed) (503).
    StoreUnavailable,
}

impl Rejection {
    /// 429 or 503.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Limited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The decision, when a policy refused.
    pub fn decision(&self) -> Option<&Decision> {
        match self {
            Self::Limited(decision) => Some(decision),
            Self::StoreUnavailable => None,
        }
    }

    /// How long the client should wait (`Retry-After` rounds it up to whole
    /// seconds, at least 1).
    pub fn retry_after(&self) -> Duration {
        match self {
            Self::Limited(decision) => decision.retry_after(),
            Self::StoreUnavailable => Duration::from_secs(1),
        }
    }

    /// The default body: RFC 9457 problem+json. A 429 has type
    /// [`QUOTA_EXCEEDED`] and lists the names of the violated policies in
    /// `violated-policies`; a 503 is `about:blank`.
    pub fn problem(&self) -> Problem {
        match self {
            Self::Limited(decision) => {
                let violated: Vec<&str> = decision.violated().map(|s| s.policy().name()).collect();
                let detail = match decision.violated().next() {
                    Some(state) => format!(
                        "rate limit `{}` exceeded ({}); retry in {} s",
                        state.policy().name(),
                        state.policy().quota(),
                        crate::headers::ceil_secs(decision.retry_after()).max(1)
                    ),
                    None => "rate limit exceeded".to_owned(),
                };
                Problem::new(StatusCode::TOO_MANY_REQUESTS)
                    .type_uri(QUOTA_EXCEEDED)
                    .title("Quota exceeded")
                    .detail(detail)
                    .extension("violated-policies", violated)
            }
            Self::StoreUnavailable => Problem::new(StatusCode::SERVICE_UNAVAILABLE)
                .detail("the rate-limit store is unavailable"),
        }
    }
}

/// Builds the response for a refused request.
///
/// Implemented for closures `Fn(&Rejection) -> Response<B>`. Whatever it
/// returns, the layer adds `Retry-After` (if absent), the rate-limit headers
/// and the [`Rejection`] in the response extensions.
pub trait OnRejection<B>: Clone + Send + Sync + 'static {
    /// The response for `rejection`.
    fn on_rejection(&self, rejection: &Rejection) -> Response<B>;
}

impl<B, F> OnRejection<B> for F
where
    F: Fn(&Rejection) -> Response<B> + Clone + Send + Sync + 'static,
{
    fn on_rejection(&self, rejection: &Rejection) -> Response<B> {
        self(rejection)
    }
}

/// The default [`OnRejection`]: [`Rejection::problem`] as
/// `application/problem+json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRejection;

impl<B: From<Bytes>> OnRejection<B> for DefaultRejection {
    fn on_rejection(&self, rejection: &Rejection) -> Response<B> {
        rejection.problem().into_response()
    }
}
