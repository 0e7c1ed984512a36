//! [`TrustedHostLayer`]: answers 400 to requests for hosts the service does
//! not serve.

use std::net::IpAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use strata_core::ConfigError;

use super::{Host, HostRejection, Target, parse_host, target};
use crate::guard::ResponseFuture;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(Host),
    /// `*.example.com`: the suffix `.example.com`.
    Subdomains(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Allowed {
    pattern: Pattern,
    port: Option<u16>,
}

impl Allowed {
    fn parse(setting: &'static str, text: &str) -> Result<Self, ConfigError> {
        let bad = |reason| ConfigError::invalid(setting, format!("`{text}`: {reason}"));
        let trimmed = text.trim();
        let (host, port) = split_port(trimmed).ok_or_else(|| bad("not a valid port"))?;
        let pattern = if let Some(domain) = host.strip_prefix("*.") {
            match parse_host(domain) {
                Some(Host::Name(name)) if name.contains('.') || domain == "localhost" => {
                    Pattern::Subdomains(format!(".{name}"))
                }
                _ => {
                    return Err(bad(
                        "a wildcard needs a domain with a dot after `*.`, such as *.example.com",
                    ));
                }
            }
        } else if host.contains('*') {
            return Err(bad(
                "`*` is only allowed as the first label (`*.example.com`)",
            ));
        } else if let Ok(ip) = host.parse::<IpAddr>() {
            // A bare IPv6 literal (`::1`) is accepted in the configuration.
            Pattern::Exact(Host::Ip(ip))
        } else {
            Pattern::Exact(parse_host(host).ok_or_else(|| bad("not a host name or IP address"))?)
        };
        Ok(Self { pattern, port })
    }

    fn matches(&self, target: &Target) -> bool {
        if self.port.is_some() && self.port != target.port {
            return false;
        }
        match (&self.pattern, &target.host) {
            (Pattern::Exact(host), other) => host == other,
            (Pattern::Subdomains(suffix), Host::Name(name)) => {
                name.len() > suffix.len() && name.ends_with(suffix.as_str())
            }
            (Pattern::Subdomains(_), Host::Ip(_)) => false,
        }
    }
}

/// Splits `host[:port]`, where host may be a bracketed IPv6 literal or a bare
/// one (no port then).
fn split_port(text: &str) -> Option<(&str, Option<u16>)> {
    if text.starts_with('[') {
        let end = text.find(']')?;
        let (host, rest) = text.split_at(end + 1);
        return match rest.strip_prefix(':') {
            Some(port) => Some((host, Some(port.parse().ok()?))),
            None if rest.is_empty() => Some((host, None)),
            None => None,
        };
    }
    if text.matches(':').count() > 1 {
        return Some((text, None));
    }
    match text.split_once(':') {
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((text, None)),
    }
}

/// Lets through only requests addressed to an allowed host; anything else
/// (another host, a missing, repeated or malformed `Host`, a `Host` that
/// disagrees with the HTTP/2 `:authority`) gets a 400 problem+json, with the
/// [`HostRejection`] in the response extensions.
///
/// Patterns: exact names (`example.com`), every subdomain of a domain
/// (`*.example.com`, not `example.com` itself), IPv4 and IPv6 literals
/// (`127.0.0.1`, `::1` or `[::1]`), each optionally with a port
/// (`example.com:8443`, `[::1]:3000`); without a port any port matches.
/// Names compare case-insensitively and without a trailing dot.
///
/// It protects against DNS rebinding and Host-header poisoning (password
/// reset links, cache keys, absolute redirects built from `Host`).
///
/// ```
/// use bytes::Bytes;
/// use http::{Request, StatusCode};
/// use http_body_util::Full;
/// use strata_security_headers::TrustedHostLayer;
/// use tower::{ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let service = ServiceBuilder::new()
///     .layer(TrustedHostLayer::builder(["example.com", "*.example.com", "[::1]:3000"]).build()?)
///     .service_fn(|_: Request<()>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(Full::<Bytes>::default()))
///     });
///
/// let ok = Request::get("/").header("host", "api.example.com:443").body(())?;
/// assert_eq!(service.clone().oneshot(ok).await?.status(), StatusCode::OK);
/// let evil = Request::get("/").header("host", "example.com.evil.net").body(())?;
/// assert_eq!(service.oneshot(evil).await?.status(), StatusCode::BAD_REQUEST);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct TrustedHostLayer {
    allowed: Arc<[Allowed]>,
}

impl TrustedHostLayer {
    /// A builder for a layer allowing these host patterns (checked by
    /// [`TrustedHostBuilder::build`]).
    pub fn builder<I, T>(hosts: I) -> TrustedHostBuilder
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        TrustedHostBuilder {
            hosts: hosts
                .into_iter()
                .map(|host| host.as_ref().to_owned())
                .collect(),
            more: Vec::new(),
        }
    }
}

/// The host patterns of a [`TrustedHostLayer`], checked by
/// [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct TrustedHostBuilder {
    /// The patterns given to `builder(hosts)`.
    hosts: Vec<String>,
    /// The patterns added with `host(..)`.
    more: Vec<String>,
}

impl TrustedHostBuilder {
    /// Adds a host pattern to those given to
    /// [`TrustedHostLayer::builder`].
    pub fn host(mut self, pattern: &str) -> Self {
        self.more.push(pattern.to_owned());
        self
    }

    /// Checks the patterns and builds the layer.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] for the first pattern that is `*`,
    /// malformed or has a bad port (setting `hosts`, the argument of
    /// [`TrustedHostLayer::builder`], or `host` for one added with
    /// [`host`](Self::host)), or `hosts` when there is no pattern at all
    /// (every request would be refused).
    pub fn build(self) -> Result<TrustedHostLayer, ConfigError> {
        let listed = self.hosts.iter().map(|host| Allowed::parse("hosts", host));
        let more = self.more.iter().map(|host| Allowed::parse("host", host));
        let allowed = listed.chain(more).collect::<Result<Vec<_>, _>>()?;
        if allowed.is_empty() {
            return Err(ConfigError::invalid(
                "hosts",
                "the host list is empty: every request would be refused",
            ));
        }
        Ok(TrustedHostLayer {
            allowed: allowed.into(),
        })
    }
}

impl<S> Layer<S> for TrustedHostLayer {
    type Service = TrustedHost<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TrustedHost {
            inner,
            allowed: Arc::clone(&self.allowed),
        }
    }
}

/// The service built by [`TrustedHostLayer`].
#[derive(Debug, Clone)]
pub struct TrustedHost<S> {
    inner: S,
    allowed: Arc<[Allowed]>,
}

impl<S> TrustedHost<S> {
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

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TrustedHost<S>
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
        let rejection = match target(request.uri(), request.headers()) {
            Ok(target) if self.allowed.iter().any(|a| a.matches(&target)) => {
                return ResponseFuture::inner(self.inner.call(request));
            }
            Ok(target) => {
                tracing::debug!(host = %target.host, "request for a host not served here");
                HostRejection::NotAllowed
            }
            Err(rejection) => rejection,
        };
        ResponseFuture::answered(Ok(rejection.into_response()))
    }
}
