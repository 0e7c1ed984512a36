//! The cross-site request guard: unsafe requests carrying the session
//! cookie must come from the site's own pages.
//!
//! The rules follow Go's `net/http.CrossOriginProtection`: safe methods
//! (`GET`, `HEAD`, `OPTIONS`, `TRACE`) pass; an allowed origin passes; a
//! `Sec-Fetch-Site` header passes only as `same-origin` or `none` (a
//! `same-site` request is refused too: a sibling subdomain is another
//! origin); without it, an `Origin` header must name the request's own
//! host; a request with neither header (not from a browser) passes.

use http::header::{HOST, ORIGIN};
use http::{HeaderMap, Method, Uri};

/// Why a request was refused with `403`, in the refusal's response
/// extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrossSiteRefusal {
    /// `Sec-Fetch-Site` said `cross-site` or `same-site`.
    FetchSite,
    /// `Origin` named another origin.
    Origin,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct CrossSiteGuard {
    pub(crate) enabled: bool,
    /// Allowed origins, `scheme://host[:port]`, lowercase.
    pub(crate) allowed_origins: Vec<String>,
    /// Path prefixes the guard skips.
    pub(crate) bypass: Vec<String>,
}

impl CrossSiteGuard {
    pub(crate) fn check(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Result<(), CrossSiteRefusal> {
        if !self.enabled
            || matches!(
                *method,
                Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
            )
        {
            return Ok(());
        }
        let origin = headers.get(ORIGIN).map(|v| v.as_bytes());
        if let Some(origin) = origin
            && self
                .allowed_origins
                .iter()
                .any(|allowed| allowed.as_bytes().eq_ignore_ascii_case(origin))
        {
            return Ok(());
        }
        if self
            .bypass
            .iter()
            .any(|prefix| uri.path().starts_with(prefix.as_str()))
        {
            return Ok(());
        }
        if let Some(site) = headers.get("sec-fetch-site") {
            return match site.as_bytes() {
                b"same-origin" | b"none" => Ok(()),
                _ => Err(CrossSiteRefusal::FetchSite),
            };
        }
        let Some(origin) = origin else {
            return Ok(());
        };
        let host = headers
            .get(HOST)
            .map(|v| v.as_bytes())
            .or_else(|| uri.authority().map(|a| a.as_str().as_bytes()));
        match (origin_host(origin), host) {
            (Some(origin), Some(host)) if origin.eq_ignore_ascii_case(host) => Ok(()),
            _ => Err(CrossSiteRefusal::Origin),
        }
    }
}

/// `host[:port]` of an `Origin` value (`null` and junk have none).
fn origin_host(origin: &[u8]) -> Option<&[u8]> {
    let rest = origin
        .strip_prefix(b"https://")
        .or_else(|| origin.strip_prefix(b"http://"))?;
    (!rest.is_empty() && !rest.contains(&b'/')).then_some(rest)
}

/// Normalises an allowed origin (`scheme://host[:port]`), or `None` when it
/// is not one.
pub(crate) fn normalise_origin(origin: &str) -> Option<String> {
    let lower = origin.trim_end_matches('/').to_ascii_lowercase();
    let uri: Uri = lower.parse().ok()?;
    let scheme = uri.scheme_str()?;
    let authority = uri.authority()?;
    (matches!(scheme, "http" | "https")
        && uri.path() == "/"
        && uri.query().is_none()
        && authority.as_str()
            == authority.host().to_string()
                + &authority
                    .port()
                    .map(|p| format!(":{p}"))
                    .unwrap_or_default())
        .then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> CrossSiteGuard {
        CrossSiteGuard {
            enabled: true,
            allowed_origins: vec!["https://app.example.com".into()],
            bypass: vec!["/webhooks/".into()],
        }
    }

    fn check(
        method: &Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<(), CrossSiteRefusal> {
        let mut map = HeaderMap::new();
        map.insert(HOST, "shop.example.com".parse().unwrap());
        for (name, value) in headers {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        guard().check(method, &path.parse().unwrap(), &map)
    }

    #[test]
    fn safe_methods_always_pass() {
        assert_eq!(
            check(&Method::GET, "/", &[("sec-fetch-site", "cross-site")]),
            Ok(())
        );
    }

    #[test]
    fn fetch_site_decides_when_present() {
        for (site, expected) in [
            ("same-origin", Ok(())),
            ("none", Ok(())),
            ("same-site", Err(CrossSiteRefusal::FetchSite)),
            ("cross-site", Err(CrossSiteRefusal::FetchSite)),
            ("junk", Err(CrossSiteRefusal::FetchSite)),
        ] {
            assert_eq!(
                check(&Method::POST, "/x", &[("sec-fetch-site", site)]),
                expected,
                "{site}"
            );
        }
    }

    #[test]
    fn origin_must_be_the_requests_own_without_fetch_site() {
        assert_eq!(
            check(
                &Method::POST,
                "/x",
                &[("origin", "https://shop.example.com")]
            ),
            Ok(())
        );
        assert_eq!(
            check(&Method::DELETE, "/x", &[("origin", "https://evil.example")]),
            Err(CrossSiteRefusal::Origin)
        );
        assert_eq!(
            check(&Method::PUT, "/x", &[("origin", "null")]),
            Err(CrossSiteRefusal::Origin)
        );
        assert_eq!(
            check(&Method::POST, "/x", &[]),
            Ok(()),
            "no browser headers"
        );
    }

    #[test]
    fn allowed_origins_and_bypassed_paths_pass() {
        let headers = [
            ("origin", "https://APP.example.com"),
            ("sec-fetch-site", "cross-site"),
        ];
        assert_eq!(check(&Method::POST, "/x", &headers), Ok(()));
        let evil = [
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ];
        assert_eq!(check(&Method::POST, "/webhooks/stripe", &evil), Ok(()));
    }

    #[test]
    fn origins_normalise() {
        assert_eq!(
            normalise_origin("https://App.Example.com/").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            normalise_origin("http://localhost:3000").as_deref(),
            Some("http://localhost:3000")
        );
        for bad in [
            "app.example.com",
            "ftp://x",
            "https://x/path",
            "https://u@x",
            "",
        ] {
            assert_eq!(normalise_origin(bad), None, "{bad}");
        }
    }
}
