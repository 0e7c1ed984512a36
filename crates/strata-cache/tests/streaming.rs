//! Bodies stream through: a cacheable one is teed into the store while
//! the client reads it, an oversized one is never buffered nor stored.

mod common;

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use strata_cache::{CacheLayer, MemoryStore};
use tokio::sync::mpsc;
use tower::{Layer, ServiceExt, service_fn};

/// A body the test feeds chunk by chunk.
struct Chunks(mpsc::UnboundedReceiver<Bytes>);

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|c| c.map(|c| Ok(Frame::data(c))))
    }
}

type Senders = Arc<Mutex<Vec<mpsc::UnboundedSender<Bytes>>>>;

/// An origin whose every response body is fed by the test.
fn origin(
    senders: &Senders,
    calls: &Arc<Mutex<usize>>,
) -> impl tower::Service<
    Request<Full<Bytes>>,
    Response = Response<Chunks>,
    Error = Infallible,
    Future: Send,
> + Clone
+ Send
+ 'static {
    let (senders, calls) = (Arc::clone(senders), Arc::clone(calls));
    service_fn(move |_req: Request<Full<Bytes>>| {
        let (senders, calls) = (Arc::clone(&senders), Arc::clone(&calls));
        async move {
            *calls.lock().expect("lock") += 1;
            let (tx, rx) = mpsc::unbounded_channel();
            senders.lock().expect("lock").push(tx);
            Ok::<_, Infallible>(
                Response::builder()
                    .header("cache-control", "max-age=60")
                    .body(Chunks(rx))
                    .expect("response"),
            )
        }
    })
}

fn get() -> Request<Full<Bytes>> {
    Request::get("http://example.com/big")
        .body(Full::new(Bytes::new()))
        .expect("request")
}

async fn next_chunk<B: Body<Data = Bytes> + Unpin>(body: &mut B) -> Option<Bytes>
where
    B::Error: std::fmt::Debug,
{
    body.frame()
        .await
        .map(|f| f.expect("frame").into_data().expect("data"))
}

#[tokio::test]
async fn a_cacheable_body_streams_to_the_client_while_it_is_stored() {
    let (senders, calls) = (Senders::default(), Arc::new(Mutex::new(0)));
    let svc = CacheLayer::new().layer(origin(&senders, &calls));
    let response = svc.clone().oneshot(get()).await.expect("response");
    let tx = senders.lock().expect("lock").pop().expect("origin called");
    let mut body = response.into_body();
    tx.send(Bytes::from_static(b"first ")).expect("send");
    // The client has the first chunk while the origin still holds the rest.
    assert_eq!(next_chunk(&mut body).await.as_deref(), Some(&b"first "[..]));
    tx.send(Bytes::from_static(b"second")).expect("send");
    drop(tx);
    assert_eq!(next_chunk(&mut body).await.as_deref(), Some(&b"second"[..]));
    assert!(next_chunk(&mut body).await.is_none());
    let hit = svc.clone().oneshot(get()).await.expect("response");
    assert!(
        hit.headers()["cache-status"]
            .to_str()
            .expect("ascii")
            .contains("hit")
    );
    assert_eq!(
        hit.into_body().collect().await.expect("body").to_bytes(),
        "first second"
    );
    assert_eq!(*calls.lock().expect("lock"), 1);
}

#[tokio::test]
async fn an_oversized_body_streams_through_and_is_not_stored() {
    let (senders, calls) = (Senders::default(), Arc::new(Mutex::new(0)));
    let layer = CacheLayer::builder(MemoryStore::new())
        .max_object_bytes(10)
        .build()
        .expect("valid");
    let svc = layer.layer(origin(&senders, &calls));
    let response = svc.clone().oneshot(get()).await.expect("response");
    let tx = senders.lock().expect("lock").pop().expect("origin called");
    let mut body = response.into_body();
    for chunk in ["0123456789", "abcdef", "ghij"] {
        tx.send(Bytes::from(chunk)).expect("send");
        assert_eq!(
            next_chunk(&mut body).await.as_deref(),
            Some(chunk.as_bytes())
        );
    }
    drop(tx);
    assert!(next_chunk(&mut body).await.is_none());
    let again = svc.clone().oneshot(get()).await.expect("response");
    assert!(
        !again.headers()["cache-status"]
            .to_str()
            .expect("ascii")
            .contains("hit")
    );
    assert_eq!(*calls.lock().expect("lock"), 2);
}

#[tokio::test]
async fn a_body_the_client_abandons_is_not_stored() {
    let (senders, calls) = (Senders::default(), Arc::new(Mutex::new(0)));
    let svc = CacheLayer::new().layer(origin(&senders, &calls));
    let response = svc.clone().oneshot(get()).await.expect("response");
    let tx = senders.lock().expect("lock").pop().expect("origin called");
    tx.send(Bytes::from_static(b"partial")).expect("send");
    drop(response);
    drop(tx);
    let again = svc.clone().oneshot(get()).await.expect("response");
    assert!(
        !again.headers()["cache-status"]
            .to_str()
            .expect("ascii")
            .contains("hit")
    );
}

/// Polls `body` the way hyper writes a body with a `Content-Length`: frame
/// by frame until that many bytes are written, never once more, and not at
/// all for a length of 0.
async fn read_like_hyper<B: Body<Data = Bytes> + Unpin>(mut body: B, length: usize) -> Vec<u8>
where
    B::Error: std::fmt::Debug,
{
    let mut out = Vec::new();
    while out.len() < length {
        match body.frame().await {
            Some(frame) => {
                if let Ok(data) = frame.expect("frame").into_data() {
                    out.extend_from_slice(&data);
                }
            }
            None => break,
        }
    }
    out
}

#[tokio::test(start_paused = true)]
async fn a_body_read_only_to_its_known_length_is_stored() {
    let calls = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&calls);
    let origin = service_fn(move |request: Request<Full<Bytes>>| {
        let counter = Arc::clone(&counter);
        async move {
            *counter.lock().expect("lock") += 1;
            let body = if request.uri().path() == "/empty" {
                ""
            } else {
                "sized body"
            };
            Ok::<_, Infallible>(
                Response::builder()
                    .header("cache-control", "max-age=60")
                    .header("content-length", body.len())
                    .body(Full::new(Bytes::from_static(body.as_bytes())))
                    .expect("response"),
            )
        }
    });
    let service = CacheLayer::builder(MemoryStore::new())
        .build()
        .expect("layer")
        .layer(origin);
    for path in ["/sized", "/empty"] {
        let get = || {
            Request::get(format!("http://shop.test{path}"))
                .body(Full::default())
                .expect("request")
        };
        for _ in 0..3 {
            let response = service.clone().oneshot(get()).await.expect("response");
            let expected: &[u8] = if path == "/empty" { b"" } else { b"sized body" };
            let length = response.headers()["content-length"]
                .to_str()
                .expect("ascii")
                .parse()
                .expect("length");
            assert_eq!(
                read_like_hyper(response.into_body(), length).await,
                expected,
                "{path}"
            );
            tokio::task::yield_now().await;
        }
    }
    assert_eq!(
        *calls.lock().expect("lock"),
        2,
        "one origin call per path, then hits"
    );
}
