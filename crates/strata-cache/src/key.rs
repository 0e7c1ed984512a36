//! Cache keys (method class, scheme, authority, path, full query) and the
//! variant a request selects under a response's `Vary`.

use std::fmt;

use http::header::{ACCEPT_ENCODING, HOST};
use http::request::Parts;
use http::{HeaderMap, HeaderName, Method, Uri};
use sha2::{Digest, Sha256};
use strata_core::Scheme;
use strata_core::headers::list;

/// The key of a cached resource: every variant of one URL for `GET` and
/// `HEAD` (one method class), `GET <scheme>://<authority><path>?<query>`
/// with the query kept whole.
///
/// Requests without an authority (no absolute target, no `Host`) have no
/// key and bypass the cache. The scheme is the request target's, else the
/// [`strata_core::Scheme`] in the request extensions, else `http`.
///
/// ```
/// use strata_cache::CacheKey;
///
/// let key = CacheKey::new("https", "Example.com", "/items?page=2&sort=asc");
/// assert_eq!(key.as_str(), "GET https://example.com/items?page=2&sort=asc");
/// let uri: http::Uri = "https://example.com/items?page=2&sort=asc".parse()?;
/// assert_eq!(CacheKey::from_uri(&uri), Some(key));
/// # Ok::<(), http::uri::InvalidUri>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    text: String,
    digest: String,
}

impl CacheKey {
    /// The key of `GET`/`HEAD` for this URL (scheme and authority are
    /// compared without case; `path_and_query` exactly, `/` when empty).
    pub fn new(scheme: &str, authority: &str, path_and_query: &str) -> Self {
        let path = if path_and_query.is_empty() {
            "/"
        } else {
            path_and_query
        };
        let mut text = String::with_capacity(7 + scheme.len() + authority.len() + path.len());
        text.push_str("GET ");
        let lower_from = text.len();
        text.push_str(scheme);
        text.push_str("://");
        text.push_str(authority);
        text[lower_from..].make_ascii_lowercase();
        text.push_str(path);
        let digest = hex(&Sha256::digest(text.as_bytes())[..16]);
        Self { text, digest }
    }

    /// The store key of a data-cache value (`DATA <namespace>:<id>`).
    pub(crate) fn data(rendered: &str) -> Self {
        let text = format!("DATA {rendered}");
        let digest = hex(&Sha256::digest(text.as_bytes())[..16]);
        Self { text, digest }
    }

    /// The key of an absolute URI, `None` without scheme or authority.
    pub fn from_uri(uri: &Uri) -> Option<Self> {
        let pq = uri.path_and_query().map_or("/", |pq| pq.as_str());
        Some(Self::new(uri.scheme_str()?, uri.authority()?.as_str(), pq))
    }

    /// The key of a `GET` of `url` (an absolute URL such as
    /// `https://example.com/items?page=2`), as [`from_uri`](Self::from_uri);
    /// `None` when it does not parse or has no scheme or authority.
    ///
    /// ```
    /// use strata_cache::CacheKey;
    ///
    /// let key = CacheKey::from_url("https://Example.com/a?b=1").expect("absolute");
    /// assert_eq!(key.as_str(), "GET https://example.com/a?b=1");
    /// assert!(CacheKey::from_url("/a?b=1").is_none());
    /// ```
    pub fn from_url(url: &str) -> Option<Self> {
        Self::from_uri(&url.parse().ok()?)
    }

    /// The key of a request, `None` when it names no authority.
    pub(crate) fn from_request(parts: &Parts) -> Option<Self> {
        let authority = match parts.uri.authority() {
            Some(a) => a.as_str(),
            None => parts.headers.get(HOST)?.to_str().ok()?,
        };
        if authority.is_empty() {
            return None;
        }
        let scheme = match parts.uri.scheme_str() {
            Some(s) => s,
            None => parts
                .extensions
                .get::<Scheme>()
                .copied()
                .unwrap_or_default()
                .as_str(),
        };
        let pq = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        Some(Self::new(scheme, authority, pq))
    }

    /// The same resource at another URI reference (`Location`,
    /// `Content-Location`), when it has the same scheme and authority
    /// (RFC 9111 §4.4).
    pub(crate) fn same_origin(&self, reference: &str) -> Option<Self> {
        let origin = self.origin();
        if reference.starts_with('/') && !reference.starts_with("//") {
            let (scheme, authority) = origin.split_once("://")?;
            return Some(Self::new(scheme, authority, reference));
        }
        let uri: Uri = reference.parse().ok()?;
        let other = Self::from_uri(&uri)?;
        (other.origin() == origin).then_some(other)
    }

    /// `<scheme>://<authority>`.
    fn origin(&self) -> &str {
        let rest = &self.text[4..];
        let start = rest.find("://").map_or(0, |i| i + 3);
        let end = rest[start..].find('/').map_or(rest.len(), |i| i + start);
        &rest[..end]
    }

    /// The key as text: `GET <scheme>://<authority><path-and-query>`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A fixed-length digest of the key (32 hex digits), what stores key
    /// by.
    pub fn digest(&self) -> &str {
        &self.digest
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CacheKey").field(&self.text).finish()
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `<digest>:<variant>`, the name of one stored variant (and of its
/// in-process flight), in one allocation.
pub(crate) fn joined(digest: &str, variant: &str) -> String {
    let mut out = String::with_capacity(digest.len() + 1 + variant.len());
    out.push_str(digest);
    out.push(':');
    out.push_str(variant);
    out
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = vec![0; bytes.len() * 2];
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 15)];
    }
    // ASCII digits: always UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// Whether the method reads through the cache (`GET`, `HEAD`).
pub(crate) fn cacheable_method(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// Whether the method is safe (RFC 9110 §9.2.1): others invalidate.
pub(crate) fn safe_method(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Fields compared without case once normalised.
const CASELESS: [&str; 4] = ["accept", "accept-charset", "accept-language", "origin"];

/// The normalised value of one varied field of a request: list elements
/// trimmed and joined with `,`; `Accept-Encoding` as the coding the
/// response would get; an absent field distinct from an empty one.
pub(crate) fn normalised(headers: &HeaderMap, name: &HeaderName) -> String {
    if name == ACCEPT_ENCODING {
        return crate::encoding::negotiated(headers).to_owned();
    }
    let mut values = headers.get_all(name).iter().peekable();
    if values.peek().is_none() {
        return "\u{0}".to_owned();
    }
    let mut out = String::new();
    for value in values {
        let text = String::from_utf8_lossy(value.as_bytes());
        for item in list(&text) {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(item);
        }
    }
    if CASELESS.contains(&name.as_str()) {
        out.make_ascii_lowercase();
    }
    out
}

/// The variant a request selects among the responses varying on `names`:
/// `""` when there are none, else a digest of the normalised values.
pub(crate) fn variant(names: &[HeaderName], headers: &HeaderMap) -> String {
    if names.is_empty() {
        return String::new();
    }
    let mut hasher = Sha256::new();
    for name in names {
        hasher.update(name.as_str().as_bytes());
        hasher.update(b"\x00");
        hasher.update(normalised(headers, name).as_bytes());
        hasher.update(b"\x01");
    }
    hex(&hasher.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderValue, Request};

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = Request::builder().uri(uri);
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        b.body(()).expect("request").into_parts().0
    }

    #[test]
    fn keys_keep_scheme_authority_path_and_the_full_query() {
        let a = CacheKey::from_request(&parts("/items?page=1", &[("host", "Example.com")]));
        let b = CacheKey::from_request(&parts("/items?page=2", &[("host", "example.com")]));
        let c = CacheKey::from_request(&parts("/items?page=1", &[("host", "other.example")]));
        let a = a.expect("key");
        assert_eq!(a.as_str(), "GET http://example.com/items?page=1");
        assert_ne!(Some(a.clone()), b);
        assert_ne!(Some(a.clone()), c);
        assert_eq!(a.digest().len(), 32);
        let mut tls = parts("/items?page=1", &[("host", "example.com")]);
        tls.extensions.insert(Scheme::Https);
        assert_eq!(
            CacheKey::from_request(&tls).expect("key").as_str(),
            "GET https://example.com/items?page=1"
        );
        assert_eq!(
            CacheKey::from_request(&parts("/x", &[])),
            None,
            "no authority, no key"
        );
    }

    #[test]
    fn same_origin_references_only() {
        let key = CacheKey::new("https", "example.com", "/items/1");
        assert_eq!(
            key.same_origin("/items")
                .map(|k| k.as_str().to_owned())
                .as_deref(),
            Some("GET https://example.com/items")
        );
        assert!(key.same_origin("https://example.com/items/2").is_some());
        assert_eq!(key.same_origin("https://evil.example/items/1"), None);
        assert_eq!(key.same_origin("http://example.com/items/1"), None);
        assert_eq!(key.same_origin("https://example.com.evil/x"), None);
        assert_eq!(key.same_origin("//evil.example/x"), None);
    }

    #[test]
    fn variants_normalise_values() {
        let names = [HeaderName::from_static("accept-language")];
        let mut a = HeaderMap::new();
        a.append("accept-language", HeaderValue::from_static("EN,  fr"));
        let mut b = HeaderMap::new();
        b.append("accept-language", HeaderValue::from_static("en"));
        b.append("accept-language", HeaderValue::from_static("fr"));
        assert_eq!(variant(&names, &a), variant(&names, &b));
        assert_ne!(variant(&names, &a), variant(&names, &HeaderMap::new()));
        let mut empty = HeaderMap::new();
        empty.append("accept-language", HeaderValue::from_static(""));
        assert_ne!(variant(&names, &empty), variant(&names, &HeaderMap::new()));
        assert_eq!(variant(&[], &a), "");
    }
}
