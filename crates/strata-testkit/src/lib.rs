//! Test support shared by the strata crates.
//!
//! - [`redis`]: a **real** `redis-server` per test binary ([`redis::shared`]),
//!   private servers that tests can stop and restart ([`redis::RedisServer`]),
//!   a real 3-master Redis Cluster per test binary
//!   ([`redis::shared_cluster`]) or private ([`redis::RedisCluster`], whose
//!   masters tests can stop and restart), and per-test key prefixes so tests
//!   run in parallel.
//! - [`body_bytes`], [`body_string`], [`get`], [`request`], [`from_peer`]:
//!   the request and body plumbing every layer test needs.
//!
//! Nothing here is mocked: a missing `redis-server` (or `redis-cli`, for
//! the cluster) fails the test with the command that installs it.

pub mod logs;
pub mod redis;

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request};
use http_body::Body;
use http_body_util::{BodyExt, Full};

/// Collects a body. Panics (failing the test) if the body errors.
pub async fn body_bytes<B>(body: B) -> Bytes
where
    B: Body,
    B::Error: std::fmt::Debug,
{
    body.collect()
        .await
        .expect("the response body failed")
        .to_bytes()
}

/// Collects a body as UTF-8. Panics (failing the test) on an error or
/// invalid UTF-8.
pub async fn body_string<B>(body: B) -> String
where
    B: Body,
    B::Error: std::fmt::Debug,
{
    String::from_utf8(body_bytes(body).await.to_vec()).expect("the body is not UTF-8")
}

/// A request with a body.
pub fn request(method: Method, uri: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Full::new(body.into()))
        .expect("a valid test request")
}

/// A `GET` request with an empty body.
pub fn get(uri: &str) -> Request<Full<Bytes>> {
    request(Method::GET, uri, Bytes::new())
}

/// Records `peer` as the connection's remote address, the way a server does.
pub fn from_peer<B>(mut request: Request<B>, peer: impl Into<SocketAddr>) -> Request<B> {
    request.extensions_mut().insert(peer.into());
    request
}
