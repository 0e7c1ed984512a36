//! An axum 0.8 server using every piece of `strata-security-headers`, with
//! tower-http's CORS and body-limit layers configured safely.
//!
//! ```text
//! APP_ENV=development|production  (default development)
//! TRUSTED_PROXIES=10.0.0.0/8      (CIDRs whose X-Forwarded-* are believed)
//! CORS_ORIGINS=https://app.example.com  (origins allowed to call /api)
//! ALLOWED_HOSTS=example.com,*.example.com  (unset: any host)
//! HTTPS_REDIRECT=1                (redirect plain HTTP to HTTPS)
//! PORT=3000                       (listens on 127.0.0.1)
//! cargo run -p strata-security-headers --features axum --example secure_server
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use http::{HeaderValue, Method, header};
use strata_core::{ClientIpResolver, ResolveClientIpLayer, TrustedProxies};
use strata_security_headers::{
    CspBuilder, CspNonce, CspReportCollector, HttpsRedirectLayer, Preset, SecurityHeadersLayer,
    TrustedHostLayer,
};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn index(nonce: CspNonce) -> Html<String> {
    Html(format!(
        "<!doctype html><title>strata</title><h1>strata</h1>\n\
         <script nonce=\"{nonce}\">document.querySelector('h1').textContent += ' ✓';</script>\n"
    ))
}

/// A page with an inline script that has no nonce: the browser blocks it and
/// reports the violation to `/csp-report`.
async fn blocked(nonce: CspNonce) -> Html<String> {
    Html(format!(
        "<!doctype html><title>blocked</title><h1>blocked</h1>\n\
         <script>document.title = 'ran without a nonce';</script>\n\
         <script nonce=\"{nonce}\">document.querySelector('h1').textContent += ' ✓';</script>\n"
    ))
}

async fn items() -> axum::Json<Vec<u32>> {
    axum::Json((1..=10).collect())
}

fn app(production: bool, proxies: TrustedProxies) -> Result<Router, BoxError> {
    // Violations go to /csp-report through both reporting mechanisms.
    let csp = if production {
        CspBuilder::strict()
    } else {
        CspBuilder::development()
    }
    .report_to("csp")
    .report_uri("/csp-report")
    .build()?;
    let preset = if production {
        Preset::Strict
    } else {
        Preset::Development
    };
    let headers = SecurityHeadersLayer::builder(preset)
        .csp(csp)
        .reporting_endpoint("csp", "/csp-report")
        .build()?;

    // CORS only on the API, with an explicit origin list and no credentials
    // unless the list is explicit (never with `Any` or a mirrored origin).
    let origins = std::env::var("CORS_ORIGINS").unwrap_or_default();
    let origins = origins
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(HeaderValue::from_str)
        .collect::<Result<Vec<_>, _>>()?;
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PUT])
        .allow_headers([header::CONTENT_TYPE])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600));
    let api = Router::new().route("/api/items", get(items)).layer(cors);

    let mut app = Router::new()
        .route("/", get(index))
        .route("/blocked", get(blocked))
        .merge(api)
        .route_service("/csp-report", CspReportCollector::new())
        .layer(RequestBodyLimitLayer::new(1024 * 1024))
        .layer(headers);
    if std::env::var("HTTPS_REDIRECT").is_ok_and(|v| v == "1") {
        app = app.layer(
            HttpsRedirectLayer::builder()
                .exempt("/health")
                .exempt("/metrics")
                .build()?,
        );
    }
    if let Ok(hosts) = std::env::var("ALLOWED_HOSTS") {
        app = app.layer(TrustedHostLayer::builder(hosts.split(',')).build()?);
    }
    // Outermost: resolves the client and scheme once, believing forwarding
    // headers only from TRUSTED_PROXIES; the layers above read its `Scheme`.
    Ok(app.layer(ResolveClientIpLayer::new(
        ClientIpResolver::new().trusted_proxies(proxies),
    )))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt().init();
    let production = std::env::var("APP_ENV").is_ok_and(|v| v == "production");
    let proxies: TrustedProxies = std::env::var("TRUSTED_PROXIES")
        .unwrap_or_default()
        .parse()?;
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let app = app(production, proxies)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
