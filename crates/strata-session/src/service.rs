//! [`SessionManager`], the service [`SessionLayer`](crate::SessionLayer)
//! wraps around the inner service.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::USER_AGENT;
use http::{Request, Response};
use strata_core::ClientIp;
use tower_service::Service;

use crate::commit::{self, Plan};
use crate::config::{OnStoreError, Settings};
use crate::cookie::{self, Presented};
use crate::future::ResponseFuture;
use crate::id::SessionId;
use crate::observe::Event;
use crate::rejection;
use crate::session::{Origin, Session};

/// The session middleware. Built by [`SessionLayer`](crate::SessionLayer).
pub struct SessionManager<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> SessionManager<S> {
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

    /// Consumes the middleware, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone> Clone for SessionManager<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for SessionManager<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionManager")
            .field("inner", &self.inner)
            .field("settings", &self.settings)
            .finish()
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for SessionManager<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqB: Send + 'static,
    ResB: From<Bytes> + Send + 'static,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqB>) -> Self::Future {
        let settings = &self.settings;
        let presented = cookie::find(request.headers(), &settings.cookie.name);
        if presented.is_present()
            && let Err(refusal) =
                settings
                    .guard
                    .check(request.method(), request.uri(), request.headers())
        {
            settings.observer.event(Event::CrossSiteRefused);
            return ResponseFuture::ready(rejection::cross_site(refusal));
        }
        let user_agent = request.headers().get(USER_AGENT).cloned();
        let ip = request.extensions().get::<ClientIp>().map(ClientIp::ip);
        let id = match presented {
            Presented::Id(id) => id,
            Presented::None | Presented::Bad => {
                if presented == Presented::Bad {
                    settings.observer.event(Event::BadCookie);
                }
                let session = Session::new(Origin::New, user_agent, ip);
                request.extensions_mut().insert(session.clone());
                return ResponseFuture::inner(self.inner.call(request), session, settings.clone());
            }
        };
        // The ready service goes into the future; a fresh clone stays.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let settings = settings.clone();
        ResponseFuture::boxed(Box::pin(async move {
            let session = match load(&settings, id).await {
                Ok(Some(record)) => Session::loaded(id, record, user_agent, ip),
                Ok(None) => Session::new(Origin::New, user_agent, ip),
                Err(()) => {
                    settings.observer.event(Event::Unavailable);
                    if settings.on_store_error == OnStoreError::Reject {
                        return Ok(commit::unavailable());
                    }
                    Session::new(Origin::Unavailable, user_agent, ip)
                }
            };
            request.extensions_mut().insert(session.clone());
            let response = inner.call(request).await?;
            let plan = Plan::take(&session, &settings);
            if plan.is_empty() {
                return Ok(response);
            }
            Ok(plan.run(&settings, response).await)
        }))
    }
}

/// Loads the record `id` opens: `Ok(None)` for unknown, ended or
/// rotated-away ids (a fresh anonymous session, no write), `Err` when the
/// store failed.
async fn load(settings: &Settings, id: SessionId) -> Result<Option<crate::store::Record>, ()> {
    let observer = &settings.observer;
    let load = settings.store.load(&id.record);
    // A store whose client already bounds the load within the timeout
    // (Redis with a command timeout) needs no second timer.
    let found = if settings.load_self_bounded {
        observer.call_self_bounded("load", load).await
    } else {
        observer.call("load", settings.store_timeout, load).await
    }
    .map_err(|_| ())?;
    let Some(record) = found else {
        observer.event(Event::BadCookie);
        return Ok(None);
    };
    let now = settings.now.ms();
    if !record.accepts(&id.secret_hash(), now) {
        observer.event(Event::BadCookie);
        return Ok(None);
    }
    if now >= record.expires_ms || now >= record.seen_ms.saturating_add(settings.idle_ms) {
        observer.event(Event::Expired);
        return Ok(None);
    }
    Ok(Some(record))
}
