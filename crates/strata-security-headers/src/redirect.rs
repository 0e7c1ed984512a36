//! [`HttpsRedirectLayer`]: sends plain-HTTP requests to HTTPS.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use strata_core::{ClientIpResolver, TrustedProxies};
use tower_layer::Layer;
use tower_service::Service;

use crate::ConfigError;
use crate::guard::GuardFuture;
use crate::host::{Host, HostRejection, parse_host, target};

/// The status of an HTTPS redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RedirectStatus {
    /// `308 Permanent Redirect`: cached, keeps the method and body.
    #[default]
    PermanentRedirect,
    /// `301 Moved Permanently`: cached; old clients turn `POST` into `GET`.
    MovedPermanently,
    /// `307 Temporary Redirect`: not cached, keeps the method and body (for
    /// trying HTTPS out before committing to it).
    TemporaryRedirect,
}

impl RedirectStatus {
    fn code(self) -> StatusCode {
        match self {
            Self::PermanentRedirect => StatusCode::PERMANENT_REDIRECT,
            Self::MovedPermanently => StatusCode::MOVED_PERMANENTLY,
            Self::TemporaryRedirect => StatusCode::TEMPORARY_REDIRECT,
        }
    }
}

#[derive(Debug)]
struct Settings {
    status: RedirectStatus,
    exempt: Vec<String>,
    resolver: ClientIpResolver,
    host: Option<Host>,
    port: Option<u16>,
}

/// Redirects requests that arrived over plain HTTP to the same URL over
/// HTTPS (`308` by default); HTTPS requests and exempt paths go through.
///
/// The scheme is a [`Scheme`](strata_core::Scheme) already in the request
/// extensions (from [`ResolveClientIpLayer`](strata_core::ResolveClientIpLayer) or the TLS
/// acceptor), else the connection's, believing `X-Forwarded-Proto` or
/// `Forwarded: proto=` only from [`trusted_proxies`](Self::trusted_proxies).
/// Behind a TLS-terminating proxy, trust it, or every request looks like
/// HTTP and is redirected forever; trust nobody else, or a client could skip
/// the redirect.
///
/// The target host is [`host`](Self::host) when set, else the request's own
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
///     .layer(HttpsRedirectLayer::new().exempt("/health")?)
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
        Self {
            settings: Arc::new(Settings {
                status: RedirectStatus::default(),
                exempt: Vec::new(),
                resolver: ClientIpResolver::new(),
                host: None,
                port: None,
            }),
        }
    }

    fn with(self, change: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Arc::try_unwrap(self.settings).unwrap_or_else(|shared| Settings {
            status: shared.status,
            exempt: shared.exempt.clone(),
            resolver: shared.resolver.clone(),
            host: shared.host.clone(),
            port: shared.port,
        });
        change(&mut settings);
        Self {
            settings: Arc::new(settings),
        }
    }

    /// The redirect status. Default: [`RedirectStatus::PermanentRedirect`].
    pub fn status(self, status: RedirectStatus) -> Self {
        self.with(|s| s.status = status)
    }

    /// A path served over plain HTTP too (health probes, ACME challenges):
    /// it matches itself and everything below it (`/health` matches
    /// `/health` and `/health/live`, not `/healthz`). Must start with `/`.
    pub fn exempt(self, path: &str) -> Result<Self, ConfigError> {
        if !path.starts_with('/') {
            return Err(ConfigError::value(
                "exempt path",
                path,
                "must start with `/`",
            ));
        }
        let path = path.trim_end_matches('/');
        let path = if path.is_empty() { "/" } else { path }.to_owned();
        Ok(self.with(|s| s.exempt.push(path)))
    }

    /// The proxies whose forwarded scheme is believed. Default: none.
    pub fn trusted_proxies(self, proxies: TrustedProxies) -> Self {
        self.with(|s| s.resolver = s.resolver.clone().trusted_proxies(proxies))
    }

    /// The full resolver used for the request scheme.
    pub fn resolver(self, resolver: ClientIpResolver) -> Self {
        self.with(|s| s.resolver = resolver)
    }

    /// Always redirect to this host (`www.example.com`), whatever the
    /// request named.
    pub fn host(self, host: &str) -> Result<Self, ConfigError> {
        let parsed = parse_host(host)
            .or_else(|| host.parse().ok().map(Host::Ip))
            .ok_or_else(|| {
                ConfigError::value("redirect host", host, "not a host name or IP address")
            })?;
        Ok(self.with(|s| s.host = Some(parsed)))
    }

    /// The HTTPS port, when not 443.
    pub fn https_port(self, port: u16) -> Self {
        self.with(|s| s.port = (port != 443).then_some(port))
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

impl Settings {
    fn is_exempt(&self, path: &str) -> bool {
        self.exempt.iter().any(|prefix| {
            prefix == "/"
                || path
                    .strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    fn location<B>(&self, request: &Request<B>) -> Result<HeaderValue, HostRejection> {
        let host = match &self.host {
            Some(host) => host.clone(),
            None => target(request.uri(), request.headers())?.host,
        };
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let path = if path.starts_with('/') { path } else { "/" };
        let location = match self.port {
            Some(port) => format!("https://{host}:{port}{path}"),
            None => format!("https://{host}{path}"),
        };
        HeaderValue::try_from(location).map_err(|_| HostRejection::Malformed)
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpsRedirect<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = GuardFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let settings = &self.settings;
        if settings.resolver.scheme(&request).is_https() || settings.is_exempt(request.uri().path())
        {
            return GuardFuture::inner(self.inner.call(request));
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
        GuardFuture::rejected(response)
    }
}
