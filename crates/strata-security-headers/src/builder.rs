//! [`SecurityHeadersBuilder`]: a preset, adjusted, compiled once.

use http::HeaderName;
use strata_core::{ClientIpResolver, ConfigError, TrustedProxies};

use crate::config::{HeaderMode, Preset, Settings, Toggle};
use crate::values::{
    CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy, CrossOriginResourcePolicy, FrameOptions,
    Hsts, PermittedCrossDomainPolicies, ReferrerPolicy,
};
use crate::{ContentSecurityPolicy, PermissionsPolicy, SecurityHeadersLayer};

/// Settings for a [`SecurityHeadersLayer`], starting from a [`Preset`]:
/// every header has a setter and an off switch. Setters never fail;
/// [`build`](Self::build) checks the settings and compiles the headers once.
///
/// ```
/// use strata_security_headers::{CspBuilder, Preset, SecurityHeadersLayer};
///
/// let csp = CspBuilder::strict().report_to("csp").build()?;
/// let layer = SecurityHeadersLayer::builder(Preset::Strict)
///     .csp(csp)
///     .reporting_endpoint("csp", "/csp-report")
///     .build()?;
/// assert!(layer.uses_nonce());
/// # Ok::<(), strata_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct SecurityHeadersBuilder {
    settings: Settings,
}

impl SecurityHeadersBuilder {
    /// The settings of `preset`.
    pub fn new(preset: Preset) -> Self {
        Self {
            settings: Settings::preset(preset),
        }
    }

    fn with(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(&mut self.settings);
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
    /// `report-to name` sends to, replacing an entry of the same name.
    /// `name` is a lowercase token; `url` is absolute or a path
    /// (`/csp-report`), printable ASCII without `"` or `\`; both are checked
    /// by [`build`](Self::build).
    pub fn reporting_endpoint(self, name: &str, url: &str) -> Self {
        self.with(|s| {
            s.reporting_endpoints.retain(|(n, _)| n != name);
            s.reporting_endpoints
                .push((name.to_owned(), url.to_owned()));
        })
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
    /// Its features and origins are checked by [`build`](Self::build).
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
    /// type. Default: `false` (`true` in [`Preset::Api`]).
    pub fn document_headers_everywhere(self, everywhere: bool) -> Self {
        self.with(|s| s.document_everywhere = everywhere)
    }

    /// Checks the settings and compiles the headers.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] for the first problem: a
    /// `reporting_endpoint` whose name is not a lowercase token or whose URL
    /// is not printable ASCII without quotes, or a `permissions_policy` with
    /// a feature or origin that cannot be written in the header.
    pub fn build(self) -> Result<SecurityHeadersLayer, ConfigError> {
        self.settings.check()?;
        Ok(SecurityHeadersLayer::from_settings(&self.settings))
    }
}
