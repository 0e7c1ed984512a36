//! `Cache-Status` members (RFC 9211).

use std::cell::RefCell;

use bytes::{BufMut as _, BytesMut};
use http::HeaderValue;

/// Why a request went forward to the origin (`fwd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fwd {
    /// The cache is not used for this request (credentials, `Range`, no
    /// key, store unavailable).
    Bypass,
    /// The method is not cacheable.
    Method,
    /// Nothing stored under the URL.
    UriMiss,
    /// The URL is stored, but not this variant.
    VaryMiss,
    /// The stored response was stale.
    Stale,
    /// The request asked for it (`no-cache`, `no-store`, `max-age`...).
    Request,
}

impl Fwd {
    fn token(self) -> &'static str {
        match self {
            Self::Bypass => "bypass",
            Self::Method => "method",
            Self::UriMiss => "uri-miss",
            Self::VaryMiss => "vary-miss",
            Self::Stale => "stale",
            Self::Request => "request",
        }
    }
}

/// One cache's member of `Cache-Status`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Status {
    pub(crate) hit: bool,
    pub(crate) fwd: Option<Fwd>,
    pub(crate) fwd_status: Option<u16>,
    /// Remaining freshness in seconds (negative: stale).
    pub(crate) ttl: Option<i64>,
    pub(crate) stored: bool,
    pub(crate) collapsed: bool,
    pub(crate) detail: Option<&'static str>,
}

impl Status {
    pub(crate) fn hit(ttl: i64) -> Self {
        Self {
            hit: true,
            ttl: Some(ttl),
            ..Self::default()
        }
    }

    pub(crate) fn fwd(fwd: Fwd) -> Self {
        Self {
            fwd: Some(fwd),
            ..Self::default()
        }
    }

    #[must_use]
    pub(crate) fn detail(mut self, detail: &'static str) -> Self {
        self.detail = Some(detail);
        self
    }

    /// The member, after the cache's name as rendered by [`render_name`].
    pub(crate) fn render(&self, name: &str) -> HeaderValue {
        // Written straight into the header's buffer: one allocation.
        let mut out = BytesMut::with_capacity(name.len() + 64);
        out.put_slice(name.as_bytes());
        if self.hit {
            out.put_slice(b"; hit");
        }
        if let Some(fwd) = self.fwd {
            out.put_slice(b"; fwd=");
            out.put_slice(fwd.token().as_bytes());
        }
        if let Some(status) = self.fwd_status {
            out.put_slice(b"; fwd-status=");
            out.put_slice(itoa::Buffer::new().format(status).as_bytes());
        }
        if let Some(ttl) = self.ttl {
            out.put_slice(b"; ttl=");
            out.put_slice(itoa::Buffer::new().format(ttl).as_bytes());
        }
        if self.stored {
            out.put_slice(b"; stored");
        }
        if self.collapsed {
            out.put_slice(b"; collapsed");
        }
        if let Some(detail) = self.detail {
            out.put_slice(b"; detail=");
            out.put_slice(detail.as_bytes());
        }
        HeaderValue::from_maybe_shared(out.freeze())
            .unwrap_or_else(|_| HeaderValue::from_static("strata"))
    }
}

thread_local! {
    /// The last member without a `ttl` this thread rendered, with the
    /// cache's name.
    static LAST: RefCell<Option<(String, Status, HeaderValue)>> = const { RefCell::new(None) };
}

/// `status` rendered after the cache's `name`. A member without a `ttl`
/// (a forward to the origin) is usually the one the thread rendered last
/// (a stream of the same uncacheable response): it is then not rendered,
/// validated and copied again.
pub(crate) fn rendered(status: &Status, name: &str) -> HeaderValue {
    if status.ttl.is_some() {
        return status.render(name);
    }
    LAST.with(|last| {
        let Ok(mut last) = last.try_borrow_mut() else {
            return status.render(name);
        };
        if let Some((last_name, last_status, value)) = &*last
            && last_status == status
            && last_name == name
        {
            return value.clone();
        }
        let value = status.render(name);
        *last = Some((name.to_owned(), status.clone(), value.clone()));
        value
    })
}

fn is_token(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'*')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(&b))
}

/// The cache's name as a structured-field item: a token when it is one,
/// else a string; `None` when it has characters neither allows.
pub(crate) fn render_name(name: &str) -> Option<String> {
    if name.is_empty() || !name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    if is_token(name) {
        return Some(name.to_owned());
    }
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_member_is_the_same_header_and_a_new_one_is_rendered() {
        let miss = Status {
            fwd_status: Some(200),
            ..Status::fwd(Fwd::UriMiss).detail("no-freshness")
        };
        let expected = "strata; fwd=uri-miss; fwd-status=200; detail=no-freshness";
        assert_eq!(rendered(&miss, "strata"), expected);
        assert_eq!(rendered(&miss, "strata"), expected);
        // Another cache's name, another member, a member with a ttl.
        assert_eq!(
            rendered(&miss, "edge"),
            "edge; fwd=uri-miss; fwd-status=200; detail=no-freshness"
        );
        let bypass = Status {
            fwd_status: Some(404),
            ..Status::fwd(Fwd::Bypass)
        };
        assert_eq!(
            rendered(&bypass, "edge"),
            "edge; fwd=bypass; fwd-status=404"
        );
        assert_eq!(rendered(&Status::hit(7), "edge"), "edge; hit; ttl=7");
        assert_eq!(rendered(&Status::hit(8), "edge"), "edge; hit; ttl=8");
        assert_eq!(rendered(&miss, "strata"), expected);
    }

    #[test]
    fn members_render_in_rfc_9211_syntax() {
        assert_eq!(Status::hit(42).render("strata"), "strata; hit; ttl=42");
        let miss = Status {
            fwd: Some(Fwd::UriMiss),
            fwd_status: Some(200),
            stored: true,
            collapsed: true,
            ..Status::default()
        };
        assert_eq!(
            miss.render("edge"),
            "edge; fwd=uri-miss; fwd-status=200; stored; collapsed"
        );
        assert_eq!(
            Status::fwd(Fwd::Bypass)
                .detail("cookie")
                .render("\"My Cache\""),
            "\"My Cache\"; fwd=bypass; detail=cookie"
        );
        assert_eq!(Status::hit(-3).render("c"), "c; hit; ttl=-3");
    }

    #[test]
    fn names_are_tokens_or_strings() {
        assert_eq!(render_name("strata").as_deref(), Some("strata"));
        assert_eq!(
            render_name("cdn.example/1").as_deref(),
            Some("cdn.example/1")
        );
        assert_eq!(
            render_name("My \"Cache\"").as_deref(),
            Some(r#""My \"Cache\"""#)
        );
        assert_eq!(render_name("1cache").as_deref(), Some("\"1cache\""));
        assert_eq!(render_name(""), None);
        assert_eq!(render_name("tab\there"), None);
        assert_eq!(render_name("café"), None);
    }
}
