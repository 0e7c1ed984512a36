//! The per-request cost of strata-sentry against the sentry-tower pair
//! (`NewSentryLayer` + `SentryHttpLayer` with transactions) set up by hand,
//! with no DSN and with a DSN and traces sample rate 0, in one group.
//!
//! `cargo bench -p strata-sentry --bench sentry -- --warm-up-time 1 --measurement-time 3`

use std::borrow::Cow;
use std::convert::Infallible;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use http_body_util::Full;
use sentry::Hub;
use sentry::integrations::tower::{NewSentryLayer, SentryHttpLayer};
use strata_sentry::{Init, SentryLayer};
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};

type Req = Request<Full<Bytes>>;

fn handler()
-> impl Service<Req, Response = Response<Full<Bytes>>, Error = Infallible, Future: Send> + Clone {
    service_fn(|_: Req| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
    })
}

fn request() -> Req {
    Request::get("http://shop.example/orders/7")
        .header("user-agent", "bench")
        .header("accept", "application/json")
        .header("cookie", "sid=abc")
        .body(Full::default())
        .expect("request")
}

fn strata() -> SentryLayer {
    SentryLayer::builder()
        .route_by(|_: &http::request::Parts| Some(Cow::Borrowed("/orders/{id}")))
        .build()
        .expect("valid settings")
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("sentry/request");
    group.bench_function("no layer", |b| {
        b.to_async(&runtime).iter(|| handler().oneshot(request()));
    });
    let capture = Init::new()
        .traces_sample_rate(0.0)
        .capture()
        .expect("valid settings");
    for (setting, hub) in [
        ("no DSN", Hub::new(None, Default::default()).into()),
        ("DSN, rate 0", capture.hub()),
    ] {
        Hub::run(hub, || {
            group.bench_function(format!("strata-sentry, {setting}"), |b| {
                let service = ServiceBuilder::new().layer(strata()).service(handler());
                b.to_async(&runtime)
                    .iter(|| service.clone().oneshot(request()));
            });
            group.bench_function(format!("sentry-tower pair, {setting}"), |b| {
                let service = ServiceBuilder::new()
                    .layer(NewSentryLayer::<Req>::new_from_top())
                    .layer(SentryHttpLayer::new().enable_transaction())
                    .service(handler());
                b.to_async(&runtime)
                    .iter(|| service.clone().oneshot(request()));
            });
        });
    }
    group.finish();
    assert!(capture.events().is_empty(), "nothing to report in a 200");
}

criterion_group!(benches, bench);
criterion_main!(benches);
