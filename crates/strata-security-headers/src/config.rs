//! The settings of [`SecurityHeadersLayer`](crate::SecurityHeadersLayer):
//! presets, modes, and their checks.

use http::header::{self, HeaderName};
use strata_core::{ClientIpResolver, ConfigError};

use crate::values::{
    CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy, CrossOriginResourcePolicy, FrameOptions,
    Hsts, PermittedCrossDomainPolicies, ReferrerPolicy,
};
use crate::{ContentSecurityPolicy, CspBuilder, PermissionsPolicy};

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

/// The starting point of a [`SecurityHeadersBuilder`](crate::SecurityHeadersBuilder):
/// the settings of [`SecurityHeadersLayer::strict`](crate::SecurityHeadersLayer::strict),
/// [`api`](crate::SecurityHeadersLayer::api) or
/// [`development`](crate::SecurityHeadersLayer::development).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Preset {
    /// HTML apps in production (the default).
    #[default]
    Strict,
    /// JSON APIs.
    Api,
    /// Local development; never in production.
    Development,
}

/// A header that can be set to a value or left out.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Toggle {
    Off,
    Set(bool),
}

/// What the setters change.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) csp: Option<ContentSecurityPolicy>,
    pub(crate) csp_report_only: Option<ContentSecurityPolicy>,
    /// `(name, url)` as given, checked by [`Settings::check`].
    pub(crate) reporting_endpoints: Vec<(String, String)>,
    pub(crate) hsts: Option<Hsts>,
    pub(crate) resolver: ClientIpResolver,
    pub(crate) coop: Option<CrossOriginOpenerPolicy>,
    pub(crate) corp: Option<CrossOriginResourcePolicy>,
    pub(crate) coep: Option<CrossOriginEmbedderPolicy>,
    pub(crate) origin_agent_cluster: bool,
    pub(crate) referrer: Option<ReferrerPolicy>,
    pub(crate) nosniff: bool,
    pub(crate) dns_prefetch: Toggle,
    pub(crate) frame_options: Option<FrameOptions>,
    pub(crate) cross_domain: Option<PermittedCrossDomainPolicies>,
    pub(crate) xss_zero: bool,
    pub(crate) permissions: Option<PermissionsPolicy>,
    pub(crate) remove: Vec<HeaderName>,
    pub(crate) mode: HeaderMode,
    pub(crate) modes: Vec<(HeaderName, HeaderMode)>,
    pub(crate) document_types: Vec<String>,
    pub(crate) document_everywhere: bool,
}

impl Settings {
    /// The settings of a preset; they pass [`Settings::check`] (a unit test
    /// checks each).
    pub(crate) fn preset(preset: Preset) -> Self {
        let mut settings = Self::strict();
        match preset {
            Preset::Strict => {}
            Preset::Api => {
                settings.csp = Some(preset_csp(CspBuilder::api()));
                settings.document_everywhere = true;
                settings.permissions = None;
            }
            Preset::Development => {
                settings.csp = Some(preset_csp(CspBuilder::development()));
                settings.hsts = None;
                settings.frame_options = Some(FrameOptions::SameOrigin);
            }
        }
        settings
    }

    fn strict() -> Self {
        Self {
            csp: Some(preset_csp(CspBuilder::strict())),
            csp_report_only: None,
            reporting_endpoints: Vec::new(),
            hsts: Some(Hsts::new()),
            resolver: ClientIpResolver::new(),
            coop: Some(CrossOriginOpenerPolicy::SameOrigin),
            corp: Some(CrossOriginResourcePolicy::SameOrigin),
            coep: None,
            origin_agent_cluster: true,
            referrer: Some(ReferrerPolicy::NoReferrer),
            nosniff: true,
            dns_prefetch: Toggle::Set(false),
            frame_options: Some(FrameOptions::Deny),
            cross_domain: Some(PermittedCrossDomainPolicies::None),
            xss_zero: true,
            permissions: Some(PermissionsPolicy::restrictive()),
            remove: DEFAULT_REMOVED.to_vec(),
            mode: HeaderMode::IfAbsent,
            modes: Vec::new(),
            document_types: [
                "text/html",
                "application/xhtml+xml",
                "image/svg+xml",
                "text/xml",
                "application/xml",
            ]
            .map(str::to_owned)
            .to_vec(),
            document_everywhere: false,
        }
    }

    /// The first setting that cannot be written into its header.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        for (name, url) in &self.reporting_endpoints {
            check_endpoint(name, url)?;
        }
        if let Some(permissions) = &self.permissions {
            permissions.check()?;
        }
        Ok(())
    }
}

fn preset_csp(builder: CspBuilder) -> ContentSecurityPolicy {
    // The presets are fixed, valid policies (a unit test validates each).
    builder.build_unchecked()
}

/// A `Reporting-Endpoints` entry: `name` a lowercase token, `url` printable
/// ASCII without `"` or `\`.
fn check_endpoint(name: &str, url: &str) -> Result<(), ConfigError> {
    let mut name_bytes = name.bytes();
    let key = name_bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && name_bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.*".contains(&b));
    if !key {
        return Err(ConfigError::invalid(
            "reporting_endpoint",
            format!("the name `{name}` is not a lowercase token"),
        ));
    }
    let url_ok = !url.is_empty()
        && url
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if !url_ok {
        return Err(ConfigError::invalid(
            "reporting_endpoint",
            format!("the URL `{url}` is not printable ASCII without quotes"),
        ));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_pass_their_checks() {
        for preset in [Preset::Strict, Preset::Api, Preset::Development] {
            let result = Settings::preset(preset).check();
            assert!(matches!(result, Ok(())), "{preset:?}: {result:?}");
        }
    }
}
