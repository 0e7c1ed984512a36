//! Helmet-grade security headers for tower, axum and hyper: typed CSP with
//! per-response nonces, a violation report collector, trusted hosts and HTTPS
//! redirects.
//!
//! - [`SecurityHeadersLayer`]: CSP (enforced and/or report-only), HSTS (only
//!   over HTTPS, believing `X-Forwarded-Proto` only from trusted proxies),
//!   COOP, CORP, COEP, `Origin-Agent-Cluster`, `Referrer-Policy`, `nosniff`,
//!   `X-DNS-Prefetch-Control`, `X-Frame-Options`,
//!   `X-Permitted-Cross-Domain-Policies`, `X-XSS-Protection: 0`,
//!   [`PermissionsPolicy`], and removal of `Server`, `X-Powered-By` and the
//!   like. Presets [`strict`](SecurityHeadersLayer::strict),
//!   [`api`](SecurityHeadersLayer::api),
//!   [`development`](SecurityHeadersLayer::development), adjusted through
//!   [`SecurityHeadersLayer::builder`]; a handler's own header wins unless
//!   its [`HeaderMode`] says otherwise.
//! - [`CspBuilder`]: a typed policy, validated when built; [`Source::NONCE`]
//!   puts a [`CspNonce`] in the request extensions for templates (and, with
//!   feature `axum`, an extractor), drawn when first read and written into
//!   that response's policy.
//! - [`CspReportCollector`]: the `report-uri` / `report-to` endpoint. Both
//!   report formats, normalised into [`CspViolation`], logged and counted;
//!   bounded body (413), rate per client (429), media type (415), junk (400),
//!   CORS preflight answered.
//! - [`TrustedHostLayer`]: 400 for hosts the service does not serve
//!   (exact, `*.example.com`, IPv6 literals, ports, HTTP/2 `:authority`).
//! - [`HttpsRedirectLayer`]: 308 to HTTPS with exempt paths, trusting a
//!   forwarded scheme only from trusted proxies, so it never loops behind a
//!   TLS terminator.
//!
//! CORS and body limits for the rest of the service are tower-http's
//! `CorsLayer` and `RequestBodyLimitLayer`.
//!
//! Every default is compared with helmet 8 and the OWASP Secure Headers
//! Project in `docs/security-headers.md`.
//!
//! # Example
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response, header};
//! use strata_security_headers::{CspNonce, SecurityHeadersLayer};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let service = ServiceBuilder::new()
//!     .layer(SecurityHeadersLayer::strict())
//!     .service_fn(|request: Request<String>| async move {
//!         // The nonce the CSP header of this response will carry.
//!         let nonce = request.extensions().get::<CspNonce>().expect("strict CSP uses a nonce");
//!         let page = format!(r#"<script nonce="{nonce}">start()</script>"#);
//!         let response = Response::builder()
//!             .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
//!             .body(page)?;
//!         Ok::<_, http::Error>(response)
//!     });
//!
//! let response = service.oneshot(Request::new(String::new())).await?;
//! let headers = response.headers();
//! let csp = headers["content-security-policy"].to_str()?;
//! let nonce = response.body().split('"').nth(1).expect("nonce attribute");
//! assert!(csp.contains(&format!("script-src 'nonce-{nonce}' 'strict-dynamic'")));
//! assert_eq!(headers["x-content-type-options"], "nosniff");
//! assert_eq!(headers["x-frame-options"], "DENY");
//! // Plain HTTP from an untrusted peer: no HSTS.
//! assert!(!headers.contains_key("strict-transport-security"));
//! # Ok(())
//! # }
//! ```
//!
//! # Configuration
//!
//! Layers without required input have an infallible `new()` that is right
//! for production (the presets too). Everything else goes through a
//! builder: [`SecurityHeadersLayer::builder`]\([`Preset`]),
//! [`HttpsRedirectLayer::builder`], [`TrustedHostLayer::builder`]\(hosts),
//! [`CspReportCollector::builder`]. Setters never fail; `build()` checks
//! everything once and reports the first problem as a
//! [`strata_core::ConfigError`] naming the setting. The value types follow
//! the same rule: [`CspBuilder`] checks its policy in `build()`;
//! [`PermissionsPolicy`], [`Feature::new`] and [`Allowlist::origin`] never
//! fail and are checked by the `build()` of the layer builder given them;
//! [`Hsts`] and the other header values cannot hold an invalid value.
//!
//! # Feature flags
//!
//! - `axum`: [`CspNonce`] as an axum 0.8 extractor (500 problem+json when
//!   missing, so a page never renders a nonce its header lacks).
//! - `prometheus`: counters for CSP reports (`CspReportMetrics`, given to
//!   `CspReportCollectorBuilder::metrics`); enables `strata-core/prometheus`.
//!
//! # Security
//!
//! - HSTS is sent only when the request arrived over HTTPS: a
//!   [`Scheme`](strata_core::Scheme) the server or
//!   [`ResolveClientIpLayer`](strata_core::ResolveClientIpLayer) stored in the request
//!   extensions, else the scheme resolved from the connection, believing
//!   `X-Forwarded-Proto`/`Forwarded` only from the
//!   [`trusted_proxies`](SecurityHeadersBuilder::trusted_proxies). A client
//!   cannot turn it on (or pin a plain-HTTP host) by sending the header itself.
//! - Nonces are 128 bits from `rand`'s `ThreadRng` (ChaCha, seeded from the
//!   operating system), new for every response that reads one; a response
//!   whose handler never reads it gets the policy without nonce sources. If
//!   the random source fails, the nonce is left out of the policy, which
//!   blocks the nonced scripts rather than allowing them.
//! - HTTPS is the connection's ([`Scheme`](strata_core::Scheme) extension) or
//!   a trusted proxy's word, never the request target's `https://`.
//! - Set-if-absent is the default so handlers can relax a header for one
//!   route; a handler can therefore also weaken it. Use
//!   [`HeaderMode::Override`] for headers no route may change.
//! - CSP and `X-Frame-Options` go on documents only (configurable); a
//!   response without `Content-Type` counts as a document.
//! - Every CSP value is checked when the policy is built: no `;`, `,`,
//!   whitespace or control character can smuggle a directive in, keywords
//!   must be quoted, and a fixed `'nonce-…'` is refused.
//! - Everything in a CSP report is attacker-controlled; it is cut to
//!   [`MAX_FIELD_CHARS`], logged escaped (one event per request), never
//!   interpreted; the collector's rate limit is per client address.
//!
//! # Deployment
//!
//! Outermost first: [`TrustedHostLayer`] → [`HttpsRedirectLayer`] →
//! [`SecurityHeadersLayer`] → the rest of the stack, so rejections and
//! redirects are cheap and every response the app produces gets its headers.
//! Give the redirect and headers layers the same trusted proxies as
//! [`ResolveClientIpLayer`](strata_core::ResolveClientIpLayer), or put that layer outside
//! them: they read the [`Scheme`](strata_core::Scheme) it stores.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod collector;
mod compiled;
mod config;
mod csp;
mod escape;
mod future;
pub mod guard;
mod host;
mod layer;
mod nonce;
mod permissions;
mod redirect;
mod service;
mod values;

#[doc(inline)]
pub use self::builder::SecurityHeadersBuilder;
#[cfg(feature = "prometheus")]
#[doc(inline)]
pub use self::collector::CspReportMetrics;
#[doc(inline)]
pub use self::collector::{
    CollectorFuture, CspReportCollector, CspReportCollectorBuilder, CspViolation,
    DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE_LIMIT_CLIENTS, Disposition, MAX_BATCH_REPORTS,
    MAX_FIELD_CHARS, ReportRejection,
};
#[doc(inline)]
pub use self::config::{HeaderMode, Preset};
#[doc(inline)]
pub use self::csp::{ContentSecurityPolicy, CspBuilder, Source};
#[doc(inline)]
pub use self::future::ResponseFuture;
#[doc(inline)]
pub use self::host::{HostRejection, TrustedHost, TrustedHostBuilder, TrustedHostLayer};
#[doc(inline)]
pub use self::layer::SecurityHeadersLayer;
#[doc(inline)]
pub use self::nonce::{CspNonce, NONCE_BYTES};
#[doc(inline)]
pub use self::permissions::{Allowlist, Feature, PermissionsPolicy};
#[doc(inline)]
pub use self::redirect::{HttpsRedirect, HttpsRedirectBuilder, HttpsRedirectLayer, RedirectStatus};
#[doc(inline)]
pub use self::service::SecurityHeaders;
#[doc(inline)]
pub use self::values::{
    CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy, CrossOriginResourcePolicy, FrameOptions,
    Hsts, PermittedCrossDomainPolicies, ReferrerPolicy,
};

// The README's examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
