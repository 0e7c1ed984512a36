use std::fmt;

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{Request, Response, StatusCode};
use strata_core::{ClientIp, ClientIpResolver, Problem, TrustedProxies};

use crate::BuildError;

/// Who may read the detailed and group endpoints: an address allow-list, a
/// bearer token, or both (either one admits). Set with
/// [`HealthBuilder::guard_details`](crate::HealthBuilder::guard_details).
///
/// A refused request gets **403** `application/problem+json`, with
/// [`DetailsRefused`] in the response extensions; the summary, liveness and
/// readiness endpoints stay open to everyone. A guard with neither an
/// allow-list nor a token refuses every request.
///
/// The client address is the [`ClientIp`] a `ResolveClientIpLayer` stored in the
/// request, else what [`client_ip`](Self::client_ip)'s resolver finds
/// (default: the peer address).
///
/// ```
/// use std::net::SocketAddr;
/// use strata_core::TrustedProxies;
/// use strata_health::{DetailsGuard, HealthLayer};
/// use tower::{ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let health = HealthLayer::builder()
///     .guard_details(
///         DetailsGuard::new()
///             .allow_ips(TrustedProxies::private_networks())
///             .bearer_token("s3cret"),
///     )
///     .build()?;
/// let service = ServiceBuilder::new().layer(health).service_fn(|_: http::Request<()>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(bytes::Bytes::new()))
/// });
///
/// let outsider = http::Request::builder()
///     .uri("/health/detailed")
///     .extension(SocketAddr::from(([203, 0, 113, 1], 9000)))
///     .body(())?;
/// assert_eq!(service.clone().oneshot(outsider).await?.status(), 403);
///
/// let with_token = http::Request::builder()
///     .uri("/health/detailed")
///     .header("authorization", "Bearer s3cret")
///     .extension(SocketAddr::from(([203, 0, 113, 1], 9000)))
///     .body(())?;
/// assert_eq!(service.oneshot(with_token).await?.status(), 200);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct DetailsGuard {
    allowed: Option<TrustedProxies>,
    resolver: ClientIpResolver,
    token: Option<Box<[u8]>>,
}

/// In the extensions of a detailed or group request the [`DetailsGuard`]
/// refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DetailsRefused;

impl fmt::Debug for DetailsGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DetailsGuard")
            .field("allowed", &self.allowed)
            .field("resolver", &self.resolver)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl DetailsGuard {
    /// A guard that admits no one until [`allow_ips`](Self::allow_ips) or
    /// [`bearer_token`](Self::bearer_token) is set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Admits clients whose address is in `allowed`.
    pub fn allow_ips(mut self, allowed: TrustedProxies) -> Self {
        self.allowed = Some(allowed);
        self
    }

    /// How the client address is found when no `ResolveClientIpLayer` ran before
    /// the health layer. Default: the peer address, no trusted proxy.
    pub fn client_ip(mut self, resolver: ClientIpResolver) -> Self {
        self.resolver = resolver;
        self
    }

    /// Admits requests carrying `Authorization: Bearer <token>`: 1 to 4096
    /// visible ASCII characters (checked when the layer is built), compared
    /// in constant time for a given length.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into().into_bytes().into_boxed_slice());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), BuildError> {
        match &self.token {
            Some(token)
                if token.is_empty()
                    || token.len() > 4096
                    || !token.iter().all(u8::is_ascii_graphic) =>
            {
                Err(BuildError::OutOfRange {
                    name: "DetailsGuard::bearer_token",
                    reason: "must be 1 to 4096 visible ASCII characters",
                })
            }
            _ => Ok(()),
        }
    }

    /// Whether `request` may read details.
    pub(crate) fn admits<B>(&self, request: &Request<B>) -> bool {
        let by_address = self.allowed.as_ref().is_some_and(|allowed| {
            request
                .extensions()
                .get::<ClientIp>()
                .copied()
                .or_else(|| self.resolver.client_ip(request))
                .is_some_and(|client| allowed.contains(client.ip()))
        });
        by_address
            || self
                .token
                .as_deref()
                .is_some_and(|token| bearer_matches(request, token))
    }
}

/// The 403 a refused request gets.
pub(crate) fn refused() -> Response<Bytes> {
    let mut response = Problem::new(StatusCode::FORBIDDEN)
        .detail("detailed health reports are not public")
        .into_response::<Bytes>();
    response.extensions_mut().insert(DetailsRefused);
    response
}

fn bearer_matches<B>(request: &Request<B>, token: &[u8]) -> bool {
    let Some(value) = request.headers().get(AUTHORIZATION) else {
        return false;
    };
    let Some((scheme, given)) = value.as_bytes().split_at_checked(7) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case(b"bearer ") || given.len() != token.len() {
        return false;
    }
    given
        .iter()
        .zip(token)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}
