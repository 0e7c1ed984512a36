//! [`Sentry`], the service of [`SentryLayer`](crate::SentryLayer).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use sentry::{Hub, TracesSamplingStrategy, TransactionContext};
use tower_service::Service;

use crate::body::SentryBody;
use crate::config::Settings;
use crate::future::ResponseFuture;
use crate::report::Report;
use crate::request;

/// The custom sampling context key holding the raw path, for the traces
/// sampler only (it is not sent).
pub(crate) const PATH_KEY: &str = "url.path";

/// Reports the inner service's server errors and panics to Sentry; see
/// [`SentryLayer`](crate::SentryLayer).
#[derive(Debug, Clone)]
pub struct Sentry<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> Sentry<S> {
    pub(crate) fn new(inner: S, settings: Arc<Settings>) -> Self {
        Self { inner, settings }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Sentry<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<SentryBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let parent = Hub::current();
        let Some(client) = parent.client().filter(|client| client.is_enabled()) else {
            // No DSN: nothing to report, panics still answered.
            let inner = &mut self.inner;
            return match catch_unwind(AssertUnwindSafe(|| inner.call(request))) {
                Ok(future) => ResponseFuture::passthrough(future, self.settings.clone()),
                Err(payload) => ResponseFuture::panicked(&*payload, None, self.settings.clone()),
            };
        };
        let hub = Arc::new(Hub::new_from_top(parent));
        let (route, request) = request::route(&self.settings, request);
        let name = format!("{} {route}", request.method());
        let interface = request::interface(&request, client.options().send_default_pii);
        let tracing = !matches!(
            client.options().traces_sampling_strategy,
            TracesSamplingStrategy::Disabled
        );
        let transaction = tracing.then(|| {
            let mut context = TransactionContext::continue_from_headers(
                &name,
                "http.server",
                request::trace_headers(&request),
            );
            context.custom_insert(PATH_KEY.to_owned(), request.uri().path().into());
            let transaction = hub.start_transaction(context);
            transaction.set_origin("auto.http.strata_sentry");
            transaction.set_request(interface.clone());
            transaction
        });
        let user = self.settings.user(request.extensions());
        hub.configure_scope(|scope| {
            scope.set_transaction(Some(&name));
            scope.set_tag("http.route", &route);
            scope.set_tag("http.request.method", request.method().as_str());
            if user.is_some() {
                scope.set_user(user);
            }
            if let Some(transaction) = &transaction {
                scope.set_span(Some(transaction.clone().into()));
            }
            scope.add_event_processor(move |mut event| {
                if event.request.is_none() {
                    event.request = Some(interface.clone());
                }
                Some(event)
            });
        });
        let report = Box::new(Report {
            hub: hub.clone(),
            transaction,
        });
        let inner = &mut self.inner;
        let called = Hub::run(hub, || {
            catch_unwind(AssertUnwindSafe(|| inner.call(request)))
        });
        match called {
            Ok(future) => ResponseFuture::reported(future, report, self.settings.clone()),
            Err(payload) => {
                ResponseFuture::panicked(&*payload, Some(report), self.settings.clone())
            }
        }
    }
}
