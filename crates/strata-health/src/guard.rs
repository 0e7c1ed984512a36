//! The answer to a detailed or group request the details guard refused.

use bytes::Bytes;
use http::{Response, StatusCode};
use strata_core::Problem;
use strata_core::guard::AccessRefusal;

/// In the extensions of a detailed or group request refused by the
/// [`AccessGuard`](strata_core::guard::AccessGuard) given to
/// [`HealthBuilder::guard_details`](crate::HealthBuilder::guard_details):
/// why it was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DetailsRefused {
    /// The check the request failed.
    pub reason: AccessRefusal,
}

/// The 403 a refused request gets.
pub(crate) fn refused(reason: AccessRefusal) -> Response<Bytes> {
    let mut response = Problem::new(StatusCode::FORBIDDEN)
        .detail("detailed health reports are not public")
        .into_response::<Bytes>();
    response.extensions_mut().insert(DetailsRefused { reason });
    response
}
