//! Security headers with a per-response CSP nonce, the CSP report collector,
//! CORS for the API and a request body limit.

use std::time::Duration;

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method};
use axum::response::{Html, IntoResponse, Response};
use strata::metrics::prometheus::Registry;
use strata::security_headers::{
    CspBuilder, CspNonce, CspReportCollector, CspReportMetrics, HttpsRedirectLayer, Preset,
    SecurityHeadersLayer,
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::app::BoxError;
use crate::config::{AppEnv, Config};

/// Where browsers send CSP violation reports.
pub(crate) const REPORT_PATH: &str = "/csp-report";

/// Production: the strict preset (nonce + `'strict-dynamic'` CSP, HSTS over
/// HTTPS only, the scheme believed from `TRUSTED_PROXIES` alone).
/// Development: no HSTS, local dev servers and websockets allowed.
pub(crate) fn headers(config: &Config) -> Result<SecurityHeadersLayer, BoxError> {
    let (preset, csp) = match config.env {
        AppEnv::Production => (Preset::Strict, CspBuilder::strict()),
        AppEnv::Development => (Preset::Development, CspBuilder::development()),
    };
    let csp = csp.report_to("csp").report_uri(REPORT_PATH).build()?;
    Ok(SecurityHeadersLayer::builder(preset)
        .csp(csp)
        .reporting_endpoint("csp", REPORT_PATH)
        .trusted_proxies(config.trusted_proxies.clone())
        .build()?)
}

/// Production behind a TLS proxy (`TRUSTED_PROXIES` set): plain-HTTP
/// requests get a 308 to HTTPS, the scheme believed from those proxies only.
/// Health probes are answered before this layer.
pub(crate) fn https_redirect(config: &Config) -> Result<Option<HttpsRedirectLayer>, BoxError> {
    if config.env != AppEnv::Production || config.trusted_proxies.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        HttpsRedirectLayer::builder()
            .trusted_proxies(config.trusted_proxies.clone())
            .build()?,
    ))
}

/// The violation collector: reports are logged and counted in `registry`.
pub(crate) fn collector(registry: &Registry) -> Result<CspReportCollector, BoxError> {
    Ok(CspReportCollector::builder()
        .metrics(CspReportMetrics::register(registry)?)
        .build()?)
}

/// CORS for `/api`: only the origins in `CORS_ORIGINS` (none by default, so
/// same-origin only). Credentials are allowed because the list is explicit;
/// never with a wildcard or a reflected origin.
pub(crate) fn cors(config: &Config) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(config.cors_origins.iter().cloned()))
        .allow_methods([Method::GET, Method::POST, Method::PUT])
        .allow_headers([CONTENT_TYPE])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600))
}

/// `GET /`: the page's inline script carries this response's nonce.
pub(crate) async fn index(nonce: CspNonce) -> Response {
    let page = INDEX.replace("{nonce}", nonce.as_str());
    let mut response = Html(page).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>strata demo</title></head>
<body>
<h1>strata demo</h1>
<p>Items: <span id="count">loading</span></p>
<script nonce="{nonce}">
fetch("/api/items").then(r => r.json()).then(items => {
  document.getElementById("count").textContent = items.length;
});
</script>
</body>
</html>
"#;
