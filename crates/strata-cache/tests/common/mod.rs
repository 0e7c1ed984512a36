//! Shared test helpers and the store conformance suite.
#![allow(dead_code, unreachable_pub)]

pub mod admin;
pub mod origin;
#[cfg(feature = "redis")]
pub mod redis;
pub mod suite;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::Full;
use strata_cache::{Cache, CacheLayer};
use tower::{Layer, ServiceExt};

#[allow(unused_imports)]
pub use origin::{Origin, Req, response};

/// What came back.
#[derive(Debug)]
pub struct Got {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Got {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map_or("", |v| v.to_str().expect("ascii header"))
    }

    pub fn cache_status(&self) -> &str {
        self.header("cache-status")
    }

    pub fn is_hit(&self) -> bool {
        self.cache_status().contains("; hit")
    }
}

pub fn service(layer: &CacheLayer, origin: &Origin) -> Cache<Origin> {
    layer.layer(origin.clone())
}

pub fn req(method: Method, uri: &str, headers: &[(&str, &str)]) -> Req {
    let mut b = Request::builder().method(method).uri(uri);
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    b.body(Full::new(Bytes::new())).expect("request")
}

pub async fn send(svc: &Cache<Origin>, request: Req) -> Got {
    let response = svc
        .clone()
        .oneshot(request)
        .await
        .expect("the origin answers");
    let (parts, body) = response.into_parts();
    Got {
        status: parts.status,
        headers: parts.headers,
        body: strata_testkit::body_string(body).await,
    }
}

pub async fn get(svc: &Cache<Origin>, uri: &str) -> Got {
    send(svc, req(Method::GET, uri, &[])).await
}

pub async fn get_with(svc: &Cache<Origin>, uri: &str, headers: &[(&str, &str)]) -> Got {
    send(svc, req(Method::GET, uri, headers)).await
}
