//! The settings compiled once into the header list each response gets.

use http::header::{self, CONTENT_TYPE, Entry, HeaderMap, HeaderName, HeaderValue};
use strata_core::ClientIpResolver;
use strata_core::headers::essence;

use crate::config::{HeaderMode, Settings, Toggle};
use crate::values::{
    CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy, CrossOriginResourcePolicy, FrameOptions,
    PermittedCrossDomainPolicies, ReferrerPolicy,
};
use crate::{ContentSecurityPolicy, PermissionsPolicy};

pub(crate) static CSP_REPORT_ONLY: HeaderName =
    HeaderName::from_static("content-security-policy-report-only");
static COOP: HeaderName = HeaderName::from_static("cross-origin-opener-policy");
static CORP: HeaderName = HeaderName::from_static("cross-origin-resource-policy");
static COEP: HeaderName = HeaderName::from_static("cross-origin-embedder-policy");
static ORIGIN_AGENT_CLUSTER: HeaderName = HeaderName::from_static("origin-agent-cluster");
static PERMISSIONS_POLICY: HeaderName = HeaderName::from_static("permissions-policy");
static REPORTING_ENDPOINTS: HeaderName = HeaderName::from_static("reporting-endpoints");
static X_DNS_PREFETCH_CONTROL: HeaderName = HeaderName::from_static("x-dns-prefetch-control");
static X_PERMITTED_CROSS_DOMAIN: HeaderName =
    HeaderName::from_static("x-permitted-cross-domain-policies");

impl Settings {
    fn mode_of(&self, name: &HeaderName) -> HeaderMode {
        self.modes
            .iter()
            .find(|(n, _)| n == name)
            .map_or(self.mode, |(_, mode)| *mode)
    }

    /// Compiles checked settings (see [`Settings::check`]).
    pub(crate) fn compile(&self) -> Compiled {
        let mut fixed = Vec::new();
        let mut add = |name: &HeaderName, value: Option<HeaderValue>, document: bool| {
            if let Some(value) = value {
                fixed.push(Fixed {
                    name: name.clone(),
                    value,
                    override_: self.mode_of(name) == HeaderMode::Override,
                    document,
                });
            }
        };
        add(
            &COOP,
            self.coop.map(CrossOriginOpenerPolicy::header_value),
            false,
        );
        add(
            &CORP,
            self.corp.map(CrossOriginResourcePolicy::header_value),
            false,
        );
        add(
            &COEP,
            self.coep.map(CrossOriginEmbedderPolicy::header_value),
            false,
        );
        add(
            &ORIGIN_AGENT_CLUSTER,
            self.origin_agent_cluster
                .then(|| HeaderValue::from_static("?1")),
            false,
        );
        add(
            &header::REFERRER_POLICY,
            self.referrer.map(ReferrerPolicy::header_value),
            false,
        );
        add(
            &header::X_CONTENT_TYPE_OPTIONS,
            self.nosniff.then(|| HeaderValue::from_static("nosniff")),
            false,
        );
        let dns = match self.dns_prefetch {
            Toggle::Off => None,
            Toggle::Set(true) => Some(HeaderValue::from_static("on")),
            Toggle::Set(false) => Some(HeaderValue::from_static("off")),
        };
        add(&X_DNS_PREFETCH_CONTROL, dns, false);
        add(
            &X_PERMITTED_CROSS_DOMAIN,
            self.cross_domain
                .map(PermittedCrossDomainPolicies::header_value),
            false,
        );
        add(
            &header::X_XSS_PROTECTION,
            self.xss_zero.then(|| HeaderValue::from_static("0")),
            false,
        );
        add(
            &PERMISSIONS_POLICY,
            self.permissions
                .as_ref()
                .and_then(PermissionsPolicy::header_value),
            false,
        );
        add(
            &header::X_FRAME_OPTIONS,
            self.frame_options.map(FrameOptions::header_value),
            true,
        );
        let endpoints = self
            .reporting_endpoints
            .iter()
            .map(|(name, url)| format!("{name}=\"{url}\""))
            .collect::<Vec<_>>()
            .join(", ");
        add(
            &REPORTING_ENDPOINTS,
            HeaderValue::try_from(endpoints)
                .ok()
                .filter(|v| !v.is_empty()),
            true,
        );
        let csp = |name: &HeaderName, policy: &Option<ContentSecurityPolicy>| {
            policy.clone().map(|policy| Csp {
                name: name.clone(),
                policy,
                override_: self.mode_of(name) == HeaderMode::Override,
            })
        };
        let csp = [
            csp(&header::CONTENT_SECURITY_POLICY, &self.csp),
            csp(&CSP_REPORT_ONLY, &self.csp_report_only),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
        Compiled {
            uses_nonce: csp.iter().any(|c| c.policy.uses_nonce()),
            fixed,
            csp,
            hsts: self.hsts.map(|hsts| Fixed {
                name: header::STRICT_TRANSPORT_SECURITY,
                value: hsts.header_value(),
                override_: self.mode_of(&header::STRICT_TRANSPORT_SECURITY) == HeaderMode::Override,
                document: false,
            }),
            resolver: self.resolver.clone(),
            remove: self.remove.clone(),
            document_types: self.document_types.clone(),
            document_everywhere: self.document_everywhere,
        }
    }
}

#[derive(Debug)]
struct Fixed {
    name: HeaderName,
    value: HeaderValue,
    override_: bool,
    document: bool,
}

#[derive(Debug)]
struct Csp {
    name: HeaderName,
    policy: ContentSecurityPolicy,
    override_: bool,
}

/// Responses with more header names than this have the removal list
/// applied by lookups without a scan first.
const SCAN_AT_MOST: usize = 16;

/// The per-response work, prepared.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) uses_nonce: bool,
    fixed: Vec<Fixed>,
    csp: Vec<Csp>,
    hsts: Option<Fixed>,
    pub(crate) resolver: ClientIpResolver,
    remove: Vec<HeaderName>,
    document_types: Vec<String>,
    document_everywhere: bool,
}

impl Compiled {
    /// Whether HSTS is configured at all (the scheme need not be resolved
    /// otherwise).
    pub(crate) fn has_hsts(&self) -> bool {
        self.hsts.is_some()
    }

    /// Applies the headers to a response.
    pub(crate) fn apply(&self, headers: &mut HeaderMap, https: bool, nonce: Option<&str>) {
        // A response usually holds none of the headers to remove, and
        // fewer headers than the list: comparing its few names with the
        // list costs less than a hashed removal per listed name.
        let present = headers.keys_len() > SCAN_AT_MOST
            || headers.keys().any(|name| self.remove.contains(name));
        if present {
            for name in &self.remove {
                headers.remove(name);
            }
        }
        // One allocation instead of the map growing several times.
        let _ = headers.try_reserve(self.fixed.len() + self.csp.len() + 1);
        let document = self.document_everywhere || self.is_document(headers);
        for entry in &self.fixed {
            if document || !entry.document {
                put(headers, &entry.name, entry.override_, || {
                    entry.value.clone()
                });
            }
        }
        if let (true, Some(hsts)) = (https, &self.hsts) {
            put(headers, &hsts.name, hsts.override_, || hsts.value.clone());
        }
        if document {
            for csp in &self.csp {
                put(headers, &csp.name, csp.override_, || {
                    csp.policy.header_value_with(nonce.unwrap_or(""))
                });
            }
        }
    }

    fn is_document(&self, headers: &HeaderMap) -> bool {
        let Some(content_type) = headers.get(CONTENT_TYPE) else {
            return true;
        };
        let Ok(content_type) = content_type.to_str() else {
            return true;
        };
        let essence = essence(content_type);
        self.document_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(essence))
    }
}

fn put(
    headers: &mut HeaderMap,
    name: &HeaderName,
    override_: bool,
    value: impl FnOnce() -> HeaderValue,
) {
    // `try_entry` instead of `entry`: a response already holding the
    // maximum number of headers loses ours rather than panicking.
    match headers.try_entry(name) {
        Ok(Entry::Occupied(mut entry)) if override_ => {
            entry.insert(value());
        }
        Ok(Entry::Vacant(entry)) => {
            let _ = entry.try_insert(value());
        }
        Ok(Entry::Occupied(_)) | Err(_) => {}
    }
}
