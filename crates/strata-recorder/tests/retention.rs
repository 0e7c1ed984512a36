//! Retention rules, sampling, flags and the bounded queue.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::get;
use http::{Request, StatusCode};
use strata_recorder::store::{Inserted, Store, StoreFuture, Usage};
use strata_recorder::{
    Exchange, MemoryStore, Page, Query, RecordTags, RecorderHandle, RecorderLayer, Retain, Summary,
};
use strata_testkit::body_bytes;
use tokio::sync::Notify;
use tower::ServiceExt as _;

/// `/s/{status}`, tagged with the `user` and `trace` query parameters.
fn app(layer: RecorderLayer) -> Router {
    Router::new()
        .route(
            "/s/{status}",
            get(
                |Path(status): Path<u16>, q: axum::extract::RawQuery| async move {
                    let mut tags = RecordTags::new();
                    for pair in q.0.unwrap_or_default().split('&') {
                        match pair.split_once('=') {
                            Some(("user", u)) => tags = tags.user(u),
                            Some(("trace", t)) => tags = tags.trace_id(t),
                            _ => {}
                        }
                    }
                    let mut response = axum::response::Response::new(Body::empty());
                    *response.status_mut() = StatusCode::from_u16(status).unwrap();
                    response.extensions_mut().insert(tags);
                    response
                },
            ),
        )
        .layer(layer)
}

async fn send(app: &Router, uri: &str) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    body_bytes(response.into_body()).await;
}

async fn kept(handle: &RecorderHandle) -> Vec<String> {
    handle.flush().await;
    let page = handle.query(&Query::new().limit(500)).await.unwrap();
    page.items.into_iter().map(|s| s.uri).collect()
}

#[tokio::test]
async fn status_rules_keep_their_classes_and_codes_only() {
    let (layer, handle) = RecorderLayer::builder()
        .retain(Retain::none().status_class(5).status(429))
        .pair()
        .unwrap();
    let app = app(layer);
    for status in [200, 404, 429, 500, 503, 302] {
        send(&app, &format!("/s/{status}")).await;
    }
    assert_eq!(kept(&handle).await, ["/s/503", "/s/500", "/s/429"]);
}

#[tokio::test]
async fn sampling_by_trace_id_is_the_same_in_every_recorder_and_errors_are_never_lost() {
    let mut sets = Vec::new();
    for seed in [1, 2] {
        let (layer, handle) = RecorderLayer::builder()
            .retain(Retain::none().status_class(5).sample(0.25))
            .seed(seed)
            .pair()
            .unwrap();
        let app = app(layer);
        for n in 0..400 {
            send(&app, &format!("/s/200?trace=t{n}")).await;
        }
        for n in 0..20 {
            send(&app, &format!("/s/500?trace=e{n}")).await;
        }
        let uris: BTreeSet<String> = kept(&handle).await.into_iter().collect();
        let errors = uris.iter().filter(|u| u.starts_with("/s/500")).count();
        assert_eq!(errors, 20);
        sets.push(uris);
    }
    assert_eq!(sets[0], sets[1]);
    let sampled = sets[0].len() - 20;
    assert!((60..140).contains(&sampled), "{sampled} of 400 at 25 %");
}

#[tokio::test]
async fn sampling_without_trace_ids_follows_the_seed() {
    let run = |seed| async move {
        let (layer, handle) = RecorderLayer::builder()
            .retain(Retain::none().sample(0.5))
            .seed(seed)
            .pair()
            .unwrap();
        let app = app(layer);
        for n in 0..100 {
            send(&app, &format!("/s/200?n={n}")).await;
        }
        kept(&handle).await.into_iter().collect::<BTreeSet<_>>()
    };
    let (a, b, c) = (run(7).await, run(7).await, run(8).await);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!((25..75).contains(&a.len()), "{}", a.len());
}

#[tokio::test]
async fn a_flagged_user_is_kept_until_unflagged() {
    let (layer, handle) = RecorderLayer::builder()
        .retain(Retain::none())
        .pair()
        .unwrap();
    let app = app(layer);
    send(&app, "/s/200?user=ada&n=1").await;
    handle.flag_user("ada");
    assert_eq!(handle.flagged().1, ["ada"]);
    send(&app, "/s/200?user=ada&n=2").await;
    send(&app, "/s/200?user=bob&n=3").await;
    handle.unflag_user("ada");
    send(&app, "/s/200?user=ada&n=4").await;
    assert_eq!(kept(&handle).await, ["/s/200?user=ada&n=2"]);
}

/// A store whose inserts wait until released.
#[derive(Debug, Clone, Default)]
struct Stuck(Arc<Gate>);

#[derive(Debug, Default)]
struct Gate {
    started: Notify,
    release: Notify,
    inner: MemoryStore,
}

impl std::ops::Deref for Stuck {
    type Target = Gate;
    fn deref(&self) -> &Gate {
        &self.0
    }
}

impl Store for Stuck {
    fn insert(&self, summary: Summary, blob: Vec<u8>) -> StoreFuture<'_, Inserted> {
        Box::pin(async move {
            self.started.notify_one();
            self.release.notified().await;
            self.inner.insert(summary, blob).await
        })
    }
    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Exchange>> {
        self.inner.get(id)
    }
    fn query<'a>(&'a self, query: &'a Query) -> StoreFuture<'a, Page> {
        self.inner.query(query)
    }
    fn usage(&self) -> StoreFuture<'_, Usage> {
        self.inner.usage()
    }
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_without_waiting() {
    let store = Stuck::default();
    let (layer, handle) = RecorderLayer::builder()
        .retain(Retain::all())
        .store(store.clone())
        .queue_capacity(1)
        .pair()
        .unwrap();
    let app = app(layer);
    send(&app, "/s/200?n=1").await;
    // The background task holds the first; the queue is empty again.
    store.started.notified().await;
    send(&app, "/s/200?n=2").await;
    send(&app, "/s/200?n=3").await;
    send(&app, "/s/200?n=4").await;
    let stats = handle.stats();
    assert_eq!((stats.kept, stats.dropped_queue_full), (4, 2));
    store.release.notify_one();
    store.started.notified().await;
    store.release.notify_one();
    handle.flush().await;
    assert_eq!(kept(&handle).await, ["/s/200?n=2", "/s/200?n=1"]);
}
