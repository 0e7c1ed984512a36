//! [`RecorderViewer`]: the HTML page and the JSON API behind it.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use sha2::{Digest, Sha256};
use strata_core::Problem;
use tower_service::Service;

use crate::handle::RecorderHandle;
use crate::query::Query;
use crate::store::StoreError;

const PAGE: &str = include_str!("viewer/index.html");

/// The recorder's viewer, a tower service answering `GET`:
///
/// | path (under where it is mounted) | answer |
/// |---|---|
/// | anything not below `api/` | the HTML page (self-contained: inline script and style, no CDN) |
/// | `api/exchanges?from=&to=&route=&method=&status=&min_ms=&session=&user=&before=&limit=` | a page of summaries: `{"items": [...], "next": cursor}` |
/// | `api/exchanges/{id}` | one exchange (JSON; bodies in base64) |
/// | `api/exchanges/{id}.har` | one exchange as HAR 1.2 |
/// | `api/export.jsonl?...` / `api/export.har?...` | the query's exchanges as JSON lines / HAR |
///
/// It matches on the path after its last `/api/`, so it works mounted under
/// any prefix (`Router::nest_service("/recorder", viewer)`). Every answer
/// carries `Cache-Control: no-store`; the page a CSP allowing only its own
/// inline script and style. Recorded exchanges are shown as text, never as
/// markup. Serve it on an admin listener, not to the public: what is
/// recorded is redacted, not anonymous.
#[derive(Debug, Clone)]
pub struct RecorderViewer {
    handle: RecorderHandle,
}

type Answer = Response<Full<Bytes>>;

impl RecorderViewer {
    pub(crate) fn new(handle: RecorderHandle) -> Self {
        Self { handle }
    }

    async fn answer(handle: RecorderHandle, method: Method, path: String, query: String) -> Answer {
        if method != Method::GET && method != Method::HEAD {
            return Problem::new(StatusCode::METHOD_NOT_ALLOWED).into_response();
        }
        let Some((_, api)) = path.rsplit_once("/api/") else {
            return page();
        };
        let parsed = match Query::from_query_string(&query) {
            Ok(parsed) => parsed,
            Err(reason) => {
                return Problem::new(StatusCode::BAD_REQUEST)
                    .detail(reason)
                    .into_response();
            }
        };
        let result = match api {
            "exchanges" => handle
                .query(&parsed)
                .await
                .map(|page| Some(json(serde_json::to_vec(&page).unwrap_or_default()))),
            "export.jsonl" => handle
                .export_jsonl(&parsed)
                .await
                .map(|text| Some(reply("application/jsonl", text.into()))),
            "export.har" => handle
                .export_har(&parsed)
                .await
                .map(|text| Some(reply("application/json", text.into()))),
            _ => match api.strip_prefix("exchanges/") {
                Some(id) => match id.strip_suffix(".har") {
                    Some(id) => handle.get(id).await.map(|found| {
                        found.map(|e| reply("application/json", crate::export::har(&[e]).into()))
                    }),
                    None => handle.get(id).await.map(|found| {
                        found.map(|e| json(serde_json::to_vec(&e).unwrap_or_default()))
                    }),
                },
                None => Ok(None),
            },
        };
        match result {
            Ok(Some(answer)) => answer,
            Ok(None) => Problem::new(StatusCode::NOT_FOUND).into_response(),
            Err(error) => unavailable(&error),
        }
    }
}

fn unavailable(error: &StoreError) -> Answer {
    tracing::warn!(%error, "recorder viewer: the store failed");
    Problem::new(StatusCode::SERVICE_UNAVAILABLE)
        .detail("the recorder's store failed")
        .into_response()
}

fn reply(media: &'static str, body: Bytes) -> Answer {
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(media));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

fn json(body: Vec<u8>) -> Answer {
    reply("application/json", body.into())
}

/// The page, with a CSP naming the hashes of its inline script and style.
fn page() -> Answer {
    static CSP: OnceLock<HeaderValue> = OnceLock::new();
    let csp = CSP.get_or_init(|| {
        let hash = |open: &str, close: &str| {
            let start = PAGE.find(open).map_or(0, |i| i + open.len());
            let end = PAGE[start..].find(close).map_or(start, |i| start + i);
            STANDARD.encode(Sha256::digest(&PAGE.as_bytes()[start..end]))
        };
        let value = format!(
            "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; connect-src 'self'; \
             base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            hash("<script>", "</script>"),
            hash("<style>", "</style>"),
        );
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
    });
    let mut response = reply(
        "text/html; charset=utf-8",
        Bytes::from_static(PAGE.as_bytes()),
    );
    response
        .headers_mut()
        .insert(CONTENT_SECURITY_POLICY, csp.clone());
    response
}

impl<B> Service<Request<B>> for RecorderViewer {
    type Response = Answer;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Answer, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let handle = self.handle.clone();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let query = request.uri().query().unwrap_or_default().to_owned();
        Box::pin(async move { Ok(Self::answer(handle, method, path, query).await) })
    }
}
