//! The settings of [`HttpsRedirectLayer`](super::HttpsRedirectLayer) and
//! their builder.

use http::{HeaderValue, Request, StatusCode};
use strata_core::{ClientIpResolver, ConfigError, TrustedProxies};

use super::HttpsRedirectLayer;
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
    pub(crate) fn code(self) -> StatusCode {
        match self {
            Self::PermanentRedirect => StatusCode::PERMANENT_REDIRECT,
            Self::MovedPermanently => StatusCode::MOVED_PERMANENTLY,
            Self::TemporaryRedirect => StatusCode::TEMPORARY_REDIRECT,
        }
    }
}

/// The checked settings, shared by a layer's services.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) status: RedirectStatus,
    exempt: Vec<String>,
    pub(crate) resolver: ClientIpResolver,
    host: Option<Host>,
    port: Option<u16>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            status: RedirectStatus::default(),
            exempt: Vec::new(),
            resolver: ClientIpResolver::new(),
            host: None,
            port: None,
        }
    }
}

/// Settings for an [`HttpsRedirectLayer`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct HttpsRedirectBuilder {
    status: RedirectStatus,
    exempt: Vec<String>,
    resolver: ClientIpResolver,
    host: Option<String>,
    port: Option<u16>,
}

impl HttpsRedirectBuilder {
    /// The redirect status. Default: [`RedirectStatus::PermanentRedirect`].
    pub fn status(mut self, status: RedirectStatus) -> Self {
        self.status = status;
        self
    }

    /// A path served over plain HTTP too (health probes, ACME challenges):
    /// it matches itself and everything below it (`/health` matches
    /// `/health` and `/health/live`, not `/healthz`). Must start with `/`,
    /// checked by [`build`](Self::build).
    pub fn exempt(mut self, path: &str) -> Self {
        self.exempt.push(path.to_owned());
        self
    }

    /// The proxies whose forwarded scheme is believed. Default: none.
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.resolver = self.resolver.trusted_proxies(proxies);
        self
    }

    /// The full resolver used for the request scheme. Replaces
    /// [`trusted_proxies`](Self::trusted_proxies).
    pub fn resolver(mut self, resolver: ClientIpResolver) -> Self {
        self.resolver = resolver;
        self
    }

    /// Always redirect to this host (`www.example.com`, an IP address),
    /// whatever the request named; checked by [`build`](Self::build).
    pub fn host(mut self, host: &str) -> Self {
        self.host = Some(host.to_owned());
        self
    }

    /// The HTTPS port, when not 443.
    pub fn https_port(mut self, port: u16) -> Self {
        self.port = (port != 443).then_some(port);
        self
    }

    /// Checks the settings and builds the layer.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] for the first `exempt` path that does not
    /// start with `/`, or a `host` that is not a host name or IP address.
    pub fn build(self) -> Result<HttpsRedirectLayer, ConfigError> {
        let mut exempt = Vec::with_capacity(self.exempt.len());
        for path in self.exempt {
            if !path.starts_with('/') {
                return Err(ConfigError::invalid(
                    "exempt",
                    format!("`{path}` does not start with `/`"),
                ));
            }
            let trimmed = path.trim_end_matches('/');
            exempt.push(if trimmed.is_empty() { "/" } else { trimmed }.to_owned());
        }
        let host = match self.host {
            None => None,
            Some(host) => Some(
                parse_host(&host)
                    .or_else(|| host.parse().ok().map(Host::Ip))
                    .ok_or_else(|| {
                        ConfigError::invalid(
                            "host",
                            format!("`{host}` is not a host name or IP address"),
                        )
                    })?,
            ),
        };
        Ok(HttpsRedirectLayer::from_settings(Settings {
            status: self.status,
            exempt,
            resolver: self.resolver,
            host,
            port: self.port,
        }))
    }
}

impl Settings {
    pub(crate) fn is_exempt(&self, path: &str) -> bool {
        self.exempt.iter().any(|prefix| {
            prefix == "/"
                || path
                    .strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    pub(crate) fn location<B>(&self, request: &Request<B>) -> Result<HeaderValue, HostRejection> {
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
