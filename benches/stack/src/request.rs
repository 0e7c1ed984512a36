//! The requests the load generator sends, for in-process runs.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, header};

/// The `Accept-Encoding` the load generator sends for `GET /large`.
pub const LARGE_ACCEPT_ENCODING: &str = "br, gzip";

/// The client address of in-process requests (the load generator's is
/// 127.0.0.1 too).
pub const CLIENT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40_000);

/// One of the two routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /small`, no `Accept-Encoding`.
    Small,
    /// `GET /large` with `Accept-Encoding: br, gzip`.
    Large,
}

impl Route {
    /// Both routes.
    pub const ALL: [Self; 2] = [Self::Small, Self::Large];

    /// The route's name (`small`, `large`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Large => "large",
        }
    }

    /// The request path.
    pub fn path(self) -> &'static str {
        match self {
            Self::Small => "/small",
            Self::Large => "/large",
        }
    }

    /// The `Accept-Encoding` the request carries, if any.
    pub fn accept_encoding(self) -> Option<&'static str> {
        match self {
            Self::Small => None,
            Self::Large => Some(LARGE_ACCEPT_ENCODING),
        }
    }
}

/// The request the load generator sends on `route`, with the
/// `ConnectInfo` a server's connection would attach.
pub fn request(route: Route) -> Request<Body> {
    let mut builder = Request::get(route.path()).header(header::HOST, "127.0.0.1");
    if let Some(coding) = route.accept_encoding() {
        builder = builder.header(header::ACCEPT_ENCODING, coding);
    }
    let mut request = builder.body(Body::empty()).expect("a valid request");
    request.extensions_mut().insert(ConnectInfo(CLIENT));
    request
}
