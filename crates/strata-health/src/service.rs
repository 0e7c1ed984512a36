use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response};
use tower_service::Service;

use crate::future::ResponseFuture;
use strata_core::guard::AccessGuard;

use crate::guard;
use crate::report::{self, Answer};
use crate::state::{Lookup, Route, Shared, resolve};

/// The service built by [`HealthLayer`](crate::HealthLayer): answers the
/// health routes itself and passes every other request to the inner service.
#[derive(Debug, Clone)]
pub struct Health<S> {
    pub(crate) inner: S,
    pub(crate) shared: Arc<Shared>,
    pub(crate) guard: Option<Arc<AccessGuard>>,
}

impl<S> Health<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes the service, returning the inner one.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Health<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let Some(route_index) = self.shared.route(request.uri().path()) else {
            return ResponseFuture::inner(self.inner.call(request));
        };
        let head = match *request.method() {
            Method::GET => false,
            Method::HEAD => true,
            _ => return ResponseFuture::answered(report::method_not_allowed()),
        };
        if let Some(guard) = &self.guard
            && matches!(
                self.shared.routes[route_index].endpoint,
                crate::Endpoint::Detailed | crate::Endpoint::Group(_)
            )
            && let Err(reason) = guard.check(&request)
        {
            return ResponseFuture::answered(guard::refused(reason));
        }
        let (parts, _body) = request.into_parts();
        let details = self.shared.details.allows(&parts);
        match probe(&self.shared, route_index, details) {
            Ok(answer) => ResponseFuture::answered(answer.into_response(head)),
            Err(waiting) => ResponseFuture::probing(Box::pin(async move {
                waiting.finish().await.into_response(head)
            })),
        }
    }
}

/// A probe whose checks are still running.
pub(crate) struct Waiting {
    shared: Arc<Shared>,
    route: usize,
    details: bool,
    checks: Vec<(usize, Lookup)>,
    system: Option<Lookup>,
}

impl Waiting {
    pub(crate) async fn finish(self) -> Answer {
        let mut entries = Vec::with_capacity(self.checks.len());
        // Every refresh is already running: waiting in turn takes as long
        // as the slowest.
        for (index, lookup) in self.checks {
            entries.push((index, resolve(lookup).await));
        }
        let system = match self.system {
            Some(lookup) => Some(resolve(lookup).await),
            None => None,
        };
        let route = &self.shared.routes[self.route];
        report::render(
            &self.shared,
            &route.endpoint,
            &entries,
            system.as_deref(),
            self.details,
        )
    }
}

/// Answers from cached results when every check of the route is fresh;
/// otherwise starts the refreshes it needs and returns them to wait for.
pub(crate) fn probe(
    shared: &Arc<Shared>,
    route_index: usize,
    details: bool,
) -> Result<Answer, Waiting> {
    shared.ensure_background();
    let route: &Route = &shared.routes[route_index];
    let wants_system = details && route.endpoint == crate::Endpoint::Detailed;
    let system = shared
        .system
        .filter(|_| wants_system)
        .map(|index| shared.lookup(index, false));
    let checks: Vec<(usize, Lookup)> = route
        .checks
        .iter()
        .map(|&index| (index, shared.lookup(index, false)))
        .collect();
    let all_fresh = checks
        .iter()
        .map(|(_, lookup)| lookup)
        .chain(system.iter())
        .all(|lookup| matches!(lookup, Lookup::Fresh(_)));
    let waiting = Waiting {
        shared: Arc::clone(shared),
        route: route_index,
        details,
        checks,
        system,
    };
    if !all_fresh {
        return Err(waiting);
    }
    let entries: Vec<_> = waiting
        .checks
        .into_iter()
        .filter_map(|(index, lookup)| match lookup {
            Lookup::Fresh(run) => Some((index, run)),
            Lookup::Waiting(_) => None,
        })
        .collect();
    let system = match &waiting.system {
        Some(Lookup::Fresh(run)) => Some(Arc::clone(run)),
        _ => None,
    };
    Ok(report::render(
        shared,
        &route.endpoint,
        &entries,
        system.as_deref(),
        details,
    ))
}
