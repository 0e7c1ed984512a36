//! A small HTTP/1 client (health probes, the service's admin listener).

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::fail::Fail;

/// Sends one request and reads the whole answer, all within `timeout`.
pub(crate) async fn send(
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
    timeout: Duration,
) -> Result<(StatusCode, Bytes), Fail> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| Fail::usage(format!("bad URL {url:?}: {e}")))?;
    if uri.scheme_str() != Some("http") || uri.authority().is_none() {
        return Err(Fail::usage(format!(
            "bad URL {url:?}: give an http:// URL with a host (https is not supported)"
        )));
    }
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(value) => {
            request = request.header(http::header::CONTENT_TYPE, "application/json");
            Full::new(Bytes::from(value.to_string()))
        }
        None => Full::new(Bytes::new()),
    };
    let request = request
        .body(body)
        .map_err(|e| Fail::usage(format!("bad request to {url}: {e}")))?;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| Fail::failure(format!("{url} unreachable: {}", source_chain(&e))))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| Fail::failure(format!("{url}: reading the answer: {e}")))?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| {
        Fail::failure(format!(
            "{url}: no answer within {}",
            humantime::format_duration(timeout)
        ))
    })?
}

fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
