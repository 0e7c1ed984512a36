//! A real inner service for the layer tests: counts its calls, answers
//! what the test says, optionally after a delay or a gate.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::Full;
use tokio::sync::Semaphore;
use tower::Service;

pub type Req = Request<Full<Bytes>>;
type Respond = dyn Fn(&Req, usize) -> Result<Response<Full<Bytes>>, std::io::Error> + Send + Sync;

/// The origin: `respond(request, call_number)` (numbers from 1).
#[derive(Clone)]
pub struct Origin {
    calls: Arc<AtomicUsize>,
    respond: Arc<Respond>,
    delay: Duration,
    /// When set, each call waits for a permit.
    pub gate: Option<Arc<Semaphore>>,
    /// The headers of every request the origin saw.
    pub seen: Arc<std::sync::Mutex<Vec<HeaderMap>>>,
}

impl Origin {
    pub fn new<F>(respond: F) -> Self
    where
        F: Fn(&Req, usize) -> Response<Full<Bytes>> + Send + Sync + 'static,
    {
        Self::fallible(move |r, n| Ok(respond(r, n)))
    }

    pub fn fallible<F>(respond: F) -> Self
    where
        F: Fn(&Req, usize) -> Result<Response<Full<Bytes>>, std::io::Error> + Send + Sync + 'static,
    {
        Self {
            calls: Arc::default(),
            respond: Arc::new(respond),
            delay: Duration::ZERO,
            gate: None,
            seen: Arc::default(),
        }
    }

    /// Answers with `headers` and body `body-<n>`.
    pub fn with_headers(headers: &'static [(&'static str, &'static str)]) -> Self {
        Self::new(move |_, n| response(200, headers, &format!("body-{n}")))
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn last_seen(&self) -> HeaderMap {
        self.seen
            .lock()
            .expect("lock")
            .last()
            .cloned()
            .expect("a request reached the origin")
    }
}

pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response<Full<Bytes>> {
    let mut b = Response::builder().status(status);
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    b.body(Full::new(Bytes::from(body.to_owned())))
        .expect("response")
}

impl Service<Req> for Origin {
    type Response = Response<Full<Bytes>>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.seen
            .lock()
            .expect("lock")
            .push(request.headers().clone());
        let (respond, delay, gate) = (Arc::clone(&self.respond), self.delay, self.gate.clone());
        Box::pin(async move {
            if let Some(gate) = gate {
                gate.acquire().await.expect("gate").forget();
            }
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            respond(&request, n)
        })
    }
}

#[allow(dead_code)]
fn _infallible(_: Infallible) {}
