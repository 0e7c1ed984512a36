//! axum extractors for [`ClientIp`] and [`Scheme`].

use axum::extract::FromRequestParts;
use http::StatusCode;
use http::request::Parts;

use crate::{ClientIp, ClientIpResolver, Problem, Scheme};

/// Reads the [`ClientIp`] stored by [`ResolveClientIpLayer`](crate::ResolveClientIpLayer).
/// Without the layer, the peer address is used and no forwarding header is
/// believed. Rejects with a 500 problem when the server recorded no peer
/// address (serve with `into_make_service_with_connect_info::<SocketAddr>()`).
impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(client) = parts.extensions.get::<ClientIp>() {
            return Ok(*client);
        }
        ClientIpResolver::new()
            .client_ip_from(&parts.headers, &parts.extensions)
            .ok_or_else(|| {
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
                    .detail("the server did not record the client's address")
            })
    }
}

/// Reads the [`Scheme`] stored by [`ResolveClientIpLayer`](crate::ResolveClientIpLayer);
/// without the layer, the scheme of the connection.
impl<S: Send + Sync> FromRequestParts<S> for Scheme {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIpResolver::new().scheme_from(&parts.headers, &parts.extensions))
    }
}
