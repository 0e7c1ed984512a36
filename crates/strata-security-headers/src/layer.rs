//! [`SecurityHeadersLayer`]: the settings and presets.

use std::sync::Arc;

use http::{HeaderName, header};
use strata_core::{ClientIpResolver, TrustedProxies};
use tower_layer::Layer;

use crate::config::{Compiled, Settings, Toggle};
use crate::values::{
    CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy, CrossOriginResourcePolicy, FrameOptions,
    Hsts, PermittedCrossDomainPolicies, ReferrerPolicy,
};
use crate::{ConfigError, ContentSecurityPolicy, PermissionsPolicy, SecurityHeaders};

/// Whether a header the layer sets replaces one the handler already set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HeaderMode {
    /// Set the header only when the response has none: the handler wins.
    #[default]
    IfAbsent,
    /// Always set the header, replacing the handler's.
    Override,
}

/// Adds security headers to every response and strips headers that reveal the
/// server's software.
///
/// Built from a preset ([`strict`](Self::strict) = [`new`](Self::new),
/// [`api`](Self::api), [`development`](Self::development)), then adjusted:
/// every header has a setter and an off switch. See the crate docs for the
/// defaults and an example.
///
/// The layer is cheap to clone; its settings sit behind an `Arc`.
#[derive(Debug, Clone)]
#[must_use]
pub struct SecurityHeadersLayer {
    settings: Settings,
    compiled: Arc<Compiled>,
}

impl Default for SecurityHeadersLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl SecurityHeadersLayer {
    /// The production defaults for HTML apps; the same as [`strict`](Self::strict).
    pub fn new() -> Self {
        Self::strict()
    }

    /// For HTML apps: the strict nonce CSP ([`CspBuilder::strict`](crate::CspBuilder::strict)),
    /// HSTS over HTTPS, `X-Frame-Options: DENY`, COOP/CORP `same-origin`,
    /// `Origin-Agent-Cluster: ?1`, `Referrer-Policy: no-referrer`, `nosniff`,
    /// DNS prefetch off, `X-Permitted-Cross-Domain-Policies: none`,
    /// `X-XSS-Protection: 0`, a restrictive `Permissions-Policy`, and `Server`,
    /// `X-Powered-By` and similar headers removed. CSP and `X-Frame-Options`
    /// go on documents only (HTML, XHTML, SVG, XML, or no `Content-Type`).
    pub fn strict() -> Self {
        Self::from_settings(Settings::strict())
    }

    /// For JSON APIs: the strict headers with the CSP
    /// `default-src 'none'; frame-ancestors 'none'` on **every** response and
    /// no `Permissions-Policy` (nothing to grant to a JSON document).
    pub fn api() -> Self {
        let mut settings = Settings::strict();
        settings.csp = Some(crate::config::csp_api());
        settings.document_everywhere = true;
        settings.permissions = None;
        Self::from_settings(settings)
    }

    /// For local development: no HSTS (a browser would remember it for
    /// `localhost`), the development CSP ([`CspBuilder::development`](crate::CspBuilder::development):
    /// dev servers and websockets on localhost, nonce without
    /// `'strict-dynamic'`), `X-Frame-Options: SAMEORIGIN`. Never use it in
    /// production.
    pub fn development() -> Self {
        let mut settings = Settings::strict();
        settings.csp = Some(crate::config::csp_development());
        settings.hsts = None;
        settings.frame_options = Some(FrameOptions::SameOrigin);
        Self::from_settings(settings)
    }

    fn from_settings(settings: Settings) -> Self {
        let compiled = Arc::new(settings.compile());
        Self { settings, compiled }
    }

    fn with(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(&mut self.settings);
        self.compiled = Arc::new(self.settings.compile());
        self
    }

    /// The enforced `Content-Security-Policy`.
    pub fn csp(self, policy: ContentSecurityPolicy) -> Self {
        self.with(|s| s.csp = Some(policy))
    }

    /// No enforced `Content-Security-Policy`.
    pub fn no_csp(self) -> Self {
        self.with(|s| s.csp = None)
    }

    /// A `Content-Security-Policy-Report-Only` policy, reported but not
    /// enforced; it can stand beside the enforced one (to trial a stricter
    /// policy). Both share the response's nonce. Default: none.
    pub fn csp_report_only(self, policy: ContentSecurityPolicy) -> Self {
        self.with(|s| s.csp_report_only = Some(policy))
    }

    /// No report-only policy.
    pub fn no_csp_report_only(self) -> Self {
        self.with(|s| s.csp_report_only = None)
    }

    /// Adds a `Reporting-Endpoints` entry (`name="url"`), the endpoint a CSP's
    /// `report-to name` sends to. `name` is a lowercase token; `url` is
    /// absolute or a path (`/csp-report`), printable ASCII without `"` or `\`.
    pub fn reporting_endpoint(self, name: &str, url: &str) -> Result<Self, ConfigError> {
        let mut name_bytes = name.bytes();
        let key = name_bytes.next().is_some_and(|b| b.is_ascii_lowercase())
            && name_bytes
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.*".contains(&b));
        if !key {
            return Err(ConfigError::value(
                "reporting endpoint name",
                name,
                "not a lowercase token",
            ));
        }
        let url_ok = !url.is_empty()
            && url
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
        if !url_ok {
            return Err(ConfigError::value(
                "reporting endpoint url",
                url,
                "not a printable URL without quotes",
            ));
        }
        Ok(self.with(|s| {
            s.reporting_endpoints.retain(|(n, _)| n != name);
            s.reporting_endpoints
                .push((name.to_owned(), url.to_owned()));
        }))
    }

    /// `Strict-Transport-Security`, sent only over HTTPS. Default:
    /// [`Hsts::new`] (one year, subdomains).
    pub fn hsts(self, hsts: Hsts) -> Self {
        self.with(|s| s.hsts = Some(hsts))
    }

    /// No `Strict-Transport-Security`.
    pub fn no_hsts(self) -> Self {
        self.with(|s| s.hsts = None)
    }

    /// The proxies whose `X-Forwarded-Proto` (or `Forwarded: proto=`) is
    /// believed when deciding whether a request came over HTTPS. Default:
    /// none. A [`Scheme`](strata_core::Scheme) already in the request
    /// extensions (set by [`ResolveClientIpLayer`](strata_core::ResolveClientIpLayer) or the
    /// TLS acceptor) counts as the connection's scheme, so with
    /// `ResolveClientIpLayer` outside this layer no proxy needs to be trusted here.
    pub fn trusted_proxies(self, proxies: TrustedProxies) -> Self {
        self.with(|s| s.resolver = s.resolver.clone().trusted_proxies(proxies))
    }

    /// The full resolver used for the request scheme (which forwarding header
    /// the proxies write, how many hops). Replaces
    /// [`trusted_proxies`](Self::trusted_proxies).
    pub fn resolver(self, resolver: ClientIpResolver) -> Self {
        self.with(|s| s.resolver = resolver)
    }

    /// `Cross-Origin-Opener-Policy`. Default: `same-origin`.
    pub fn cross_origin_opener_policy(self, value: CrossOriginOpenerPolicy) -> Self {
        self.with(|s| s.coop = Some(value))
    }

    /// No `Cross-Origin-Opener-Policy`.
    pub fn no_cross_origin_opener_policy(self) -> Self {
        self.with(|s| s.coop = None)
    }

    /// `Cross-Origin-Resource-Policy`. Default: `same-origin`.
    pub fn cross_origin_resource_policy(self, value: CrossOriginResourcePolicy) -> Self {
        self.with(|s| s.corp = Some(value))
    }

    /// No `Cross-Origin-Resource-Policy`.
    pub fn no_cross_origin_resource_policy(self) -> Self {
        self.with(|s| s.corp = None)
    }

    /// `Cross-Origin-Embedder-Policy`. Default: off.
    pub fn cross_origin_embedder_policy(self, value: CrossOriginEmbedderPolicy) -> Self {
        self.with(|s| s.coep = Some(value))
    }

    /// No `Cross-Origin-Embedder-Policy` (the default).
    pub fn no_cross_origin_embedder_policy(self) -> Self {
        self.with(|s| s.coep = None)
    }

    /// `Origin-Agent-Cluster: ?1`. Default: on.
    pub fn origin_agent_cluster(self, on: bool) -> Self {
        self.with(|s| s.origin_agent_cluster = on)
    }

    /// `Referrer-Policy`. Default: `no-referrer`.
    pub fn referrer_policy(self, value: ReferrerPolicy) -> Self {
        self.with(|s| s.referrer = Some(value))
    }

    /// No `Referrer-Policy`.
    pub fn no_referrer_policy(self) -> Self {
        self.with(|s| s.referrer = None)
    }

    /// `X-Content-Type-Options: nosniff`. Default: on.
    pub fn content_type_options(self, on: bool) -> Self {
        self.with(|s| s.nosniff = on)
    }

    /// `X-DNS-Prefetch-Control`: `on` when `allow`, else `off`. Default: `off`.
    pub fn dns_prefetch_control(self, allow: bool) -> Self {
        self.with(|s| s.dns_prefetch = Toggle::Set(allow))
    }

    /// No `X-DNS-Prefetch-Control`.
    pub fn no_dns_prefetch_control(self) -> Self {
        self.with(|s| s.dns_prefetch = Toggle::Off)
    }

    /// `X-Frame-Options` (documents only). Default: `DENY`.
    pub fn frame_options(self, value: FrameOptions) -> Self {
        self.with(|s| s.frame_options = Some(value))
    }

    /// No `X-Frame-Options`.
    pub fn no_frame_options(self) -> Self {
        self.with(|s| s.frame_options = None)
    }

    /// `X-Permitted-Cross-Domain-Policies`. Default: `none`.
    pub fn permitted_cross_domain_policies(self, value: PermittedCrossDomainPolicies) -> Self {
        self.with(|s| s.cross_domain = Some(value))
    }

    /// No `X-Permitted-Cross-Domain-Policies`.
    pub fn no_permitted_cross_domain_policies(self) -> Self {
        self.with(|s| s.cross_domain = None)
    }

    /// `X-XSS-Protection: 0`, which turns off the legacy XSS auditors (they
    /// created leaks of their own). Default: on.
    pub fn xss_protection(self, on: bool) -> Self {
        self.with(|s| s.xss_zero = on)
    }

    /// `Permissions-Policy`. Default: [`PermissionsPolicy::restrictive`].
    pub fn permissions_policy(self, policy: PermissionsPolicy) -> Self {
        self.with(|s| s.permissions = Some(policy))
    }

    /// No `Permissions-Policy`.
    pub fn no_permissions_policy(self) -> Self {
        self.with(|s| s.permissions = None)
    }

    /// Adds a header to strip from every response (always, whatever the
    /// [`HeaderMode`]). Default list: `Server`, `X-Powered-By`,
    /// `X-AspNet-Version`, `X-AspNetMvc-Version`, `X-Runtime`, `X-Generator`,
    /// `X-Version`, `X-Backend-Server`, `X-Server-Powered-By`.
    pub fn remove_header(self, name: HeaderName) -> Self {
        self.with(|s| {
            if !s.remove.contains(&name) {
                s.remove.push(name);
            }
        })
    }

    /// Keeps a header the default list would strip.
    pub fn keep_header(self, name: &HeaderName) -> Self {
        self.with(|s| s.remove.retain(|n| n != name))
    }

    /// The mode of every header without its own. Default:
    /// [`HeaderMode::IfAbsent`].
    pub fn mode(self, mode: HeaderMode) -> Self {
        self.with(|s| s.mode = mode)
    }

    /// The mode of one header, for example [`HeaderMode::Override`] for
    /// `content-security-policy` so no handler can weaken it.
    pub fn header_mode(self, name: HeaderName, mode: HeaderMode) -> Self {
        self.with(|s| {
            s.modes.retain(|(n, _)| *n != name);
            s.modes.push((name, mode));
        })
    }

    /// The media types that count as documents and get the document-only
    /// headers (CSP, report-only CSP, `Reporting-Endpoints`,
    /// `X-Frame-Options`). Matched on the essence, case-insensitively. A
    /// response without `Content-Type` is always a document (a browser may
    /// sniff it as HTML). Default: `text/html`, `application/xhtml+xml`,
    /// `image/svg+xml`, `text/xml`, `application/xml`.
    pub fn document_types<I, T>(self, types: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let types: Vec<String> = types
            .into_iter()
            .map(|t| t.as_ref().trim().to_ascii_lowercase())
            .collect();
        self.with(|s| s.document_types = types)
    }

    /// Sends the document-only headers on every response, whatever its
    /// type. Default: `false` (`true` in [`api`](Self::api)).
    pub fn document_headers_everywhere(self, everywhere: bool) -> Self {
        self.with(|s| s.document_everywhere = everywhere)
    }

    /// Whether responses will carry a per-response CSP nonce.
    pub fn uses_nonce(&self) -> bool {
        self.compiled.uses_nonce
    }
}

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SecurityHeaders::new(inner, Arc::clone(&self.compiled))
    }
}

pub(crate) static DEFAULT_REMOVED: [HeaderName; 9] = [
    header::SERVER,
    HeaderName::from_static("x-powered-by"),
    HeaderName::from_static("x-aspnet-version"),
    HeaderName::from_static("x-aspnetmvc-version"),
    HeaderName::from_static("x-runtime"),
    HeaderName::from_static("x-generator"),
    HeaderName::from_static("x-version"),
    HeaderName::from_static("x-backend-server"),
    HeaderName::from_static("x-server-powered-by"),
];
