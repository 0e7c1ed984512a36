//! [`HttpsRedirectLayer`]: sends plain-HTTP requests to HTTPS.

mod config;

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, header};
use tower_layer::Layer;
use tower_service::Service;

use self::config::Settings;
pub use self::config::{HttpsRedirectBuilder, RedirectStatus};
use crate::guard::ResponseFuture;

/// Redirects requests that arrived over plain HTTP to the same URL over
/// HTTPS (`308` by default); HTTPS requests and exempt paths go through.
///
/// The scheme is a [`Scheme`](strata_core::Scheme) already in the request
/// extensions (from [`ResolveClientIpLayer`](strata_core::ResolveClientIpLayer) or the TLS
/// acceptor), else the connection's, believing `X-Forwarded-Proto` or
/// `Forwarded: proto=` only from
/// [`trusted_proxies`](HttpsRedirectBuilder::trusted_proxies).
/// Behind a TLS-terminating proxy, trust it, or every request looks like
/// HTTP and is redirected forever; trust nobody else, or a client could skip
/// the redirect.
///
/// The target host is [`host`](HttpsRedirectBuilder::host) when set, else the request's own
/// (`:authority` or `Host`), which must be a well-formed host name or IP
/// literal (else 400 problem+json); put a [`TrustedHostLayer`](crate::TrustedHostLayer)
/// outside this one so only your hosts are redirected to.
///
/// ```
/// use bytes::Bytes;
/// use http::{Request, StatusCode};
/// use http_body_util::Full;
/// use strata_security_headers::HttpsRedirectLayer;
/// use tower::{ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let service = ServiceBuilder::new()
///     .layer(HttpsRedirectLayer::builder().exempt("/health").build()?)
///     .service_fn(|_: Request<()>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(Full::<Bytes>::default()))
///     });
///
/// let request = Request::get("/cart?item=1").header("host", "shop.example.com").body(())?;
/// let response = service.clone().oneshot(request).await?;
/// assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
/// assert_eq!(response.headers()["location"], "https://shop.example.com/cart?item=1");
///
/// let probe = Request::get("/health/live").header("host", "10.0.0.5:8080").body(())?;
/// assert_eq!(service.oneshot(probe).await?.status(), StatusCode::OK);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct HttpsRedirectLayer {
    settings: Arc<Settings>,
}

impl Default for HttpsRedirectLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpsRedirectLayer {
    /// `308` to the request's host on port 443, no exempt path, no trusted proxy.
    pub fn new() -> Self {
        Self::from_settings(Settings::default())
    }

    /// A builder starting from the settings of [`new`](Self::new).
    pub fn builder() -> HttpsRedirectBuilder {
        HttpsRedirectBuilder::default()
    }

    fn from_settings(settings: Settings) -> Self {
        Self {
            settings: Arc::new(settings),
        }
    }
}

impl<S> Layer<S> for HttpsRedirectLayer {
    type Service = HttpsRedirect<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpsRedirect {
            inner,
            settings: Arc::clone(&self.settings),
        }
    }
}

/// The service built by [`HttpsRedirectLayer`].
#[derive(Debug, Clone)]
pub struct HttpsRedirect<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> HttpsRedirect<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpsRedirect<S>
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
        let settings = &self.settings;
        if settings.resolver.scheme(&request).is_https() || settings.is_exempt(request.uri().path())
        {
            return ResponseFuture::inner(self.inner.call(request));
        }
        let response = match settings.location(&request) {
            Ok(location) => {
                let mut response = Response::new(ResBody::from(Bytes::new()));
                *response.status_mut() = settings.status.code();
                response.headers_mut().insert(header::LOCATION, location);
                response
            }
            Err(rejection) => rejection.into_response(),
        };
        ResponseFuture::answered(Ok(response))
    }
}
