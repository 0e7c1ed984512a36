use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use http::{Request, Response, header::CONTENT_LENGTH};
use http_body::Body;
use tower_service::Service;

use crate::body::MetricsBody;
use crate::future::ResponseFuture;
use crate::labels::{Route, method_index, scheme_index};
use crate::recorder::{Recorder, Shared};

/// The service built by [`MetricsLayer`](crate::MetricsLayer): records every
/// request in the layer's histograms and gauge.
#[derive(Debug, Clone)]
pub struct Metrics<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Metrics<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Metrics<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ReqBody: Body,
{
    type Response = Response<MetricsBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let method = method_index(request.method());
        let scheme = scheme_index(request.extensions());
        let request_size = request.body().size_hint().exact().or_else(|| {
            request
                .headers()
                .get(CONTENT_LENGTH)?
                .to_str()
                .ok()?
                .parse()
                .ok()
        });
        let (route, request) = route(&self.shared, request);
        let recorder = Recorder::start(
            Arc::clone(&self.shared),
            method,
            scheme,
            route,
            request_size,
        );
        ResponseFuture::new(self.inner.call(request), recorder)
    }
}

/// The `http_route` of a request: axum's `MatchedPath`, else the classifier,
/// else the unmatched value.
fn route<B>(shared: &Shared, request: Request<B>) -> (Route, Request<B>) {
    #[cfg(feature = "axum")]
    if let Some(path) = request.extensions().get::<axum::extract::MatchedPath>() {
        return (Route::Matched(path.clone()), request);
    }
    let Some(classifier) = &shared.classifier else {
        shared.unrouted.inc();
        warn_unrouted_once();
        return (Route::Static(shared.unmatched), request);
    };
    let (parts, body) = request.into_parts();
    let route = classifier
        .classify(&parts)
        .map_or(Route::Static(shared.unmatched), Route::from_cow);
    (route, Request::from_parts(parts, body))
}

/// Logs, once per process, that a request had no route template.
#[cold]
fn warn_unrouted_once() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "strata-metrics: a request carried no route template (no axum MatchedPath, no \
             route_by classifier) and is labelled as unmatched. Enable the `axum` feature \
             of strata-metrics and apply the layer with Router::layer, or name routes with \
             MetricsBuilder::route_by (a classifier returning None marks the router's \
             fallback as expected). Counted in strata_metrics_requests_without_route_total; \
             logged once"
        );
    }
}
