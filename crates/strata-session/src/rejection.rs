//! Responses the layer answers itself.

use bytes::Bytes;
use http::{Response, StatusCode};
use strata_core::Problem;

pub use crate::guard::CrossSiteRefusal;

/// Why the session layer answered a request itself; in the response
/// extensions of every such answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// `403`: an unsafe request with the session cookie from another site.
    CrossSite(CrossSiteRefusal),
    /// `503`: the store failed or did not answer in time.
    StoreUnavailable,
}

pub(crate) fn cross_site<B: From<Bytes>>(refusal: CrossSiteRefusal) -> Response<B> {
    let detail = match refusal {
        CrossSiteRefusal::FetchSite => "Sec-Fetch-Site says this request comes from another site.",
        CrossSiteRefusal::Origin => "The Origin header names another site.",
    };
    let mut response = Problem::new(StatusCode::FORBIDDEN)
        .title("Cross-site request refused")
        .detail(detail)
        .into_response();
    response
        .extensions_mut()
        .insert(Rejection::CrossSite(refusal));
    response
}
