//! Reading the session cookie from `Cookie` and writing `Set-Cookie`.

use http::HeaderMap;
use http::HeaderValue;
use http::header::COOKIE;

use crate::id::SessionId;

/// `SameSite` attribute of the session cookie.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SameSite {
    /// Sent on same-site requests and top-level navigations (the default).
    #[default]
    Lax,
    /// Sent on same-site requests only.
    Strict,
    /// Sent on every request; needs `Secure`.
    None,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            Self::Lax => "Lax",
            Self::Strict => "Strict",
            Self::None => "None",
        }
    }
}

/// What the request's `Cookie` headers say about the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presented {
    /// No cookie of that name.
    None,
    /// One well-formed id.
    Id(SessionId),
    /// A cookie of that name that is not one well-formed id: junk, the
    /// wrong length or alphabet, or the name given more than once.
    Bad,
}

impl Presented {
    pub(crate) fn is_present(&self) -> bool {
        !matches!(self, Self::None)
    }
}

/// Finds the cookie `name` in every `Cookie` header of `headers`.
pub(crate) fn find(headers: &HeaderMap, name: &str) -> Presented {
    let mut found = Presented::None;
    for header in headers.get_all(COOKIE) {
        for pair in header.as_bytes().split(|&b| b == b';') {
            let pair = pair.trim_ascii();
            let Some(value) = pair
                .strip_prefix(name.as_bytes())
                .and_then(|rest| rest.strip_prefix(b"="))
            else {
                continue;
            };
            found = match found {
                Presented::None => SessionId::parse(value).map_or(Presented::Bad, Presented::Id),
                _ => return Presented::Bad,
            };
        }
    }
    found
}

/// The attributes of the session cookie, rendered once at build time.
#[derive(Debug, Clone)]
pub(crate) struct CookieFormat {
    pub(crate) name: String,
    /// `; Path=/; HttpOnly; ...` after the value.
    attributes: String,
    persistent: bool,
}

impl CookieFormat {
    pub(crate) fn new(
        name: String,
        path: &str,
        domain: Option<&str>,
        secure: bool,
        same_site: SameSite,
        persistent: bool,
    ) -> Self {
        let mut attributes = format!("; Path={path}");
        if let Some(domain) = domain {
            attributes.push_str("; Domain=");
            attributes.push_str(domain);
        }
        if secure {
            attributes.push_str("; Secure");
        }
        attributes.push_str("; HttpOnly; SameSite=");
        attributes.push_str(same_site.as_str());
        Self {
            name,
            attributes,
            persistent,
        }
    }

    /// `Set-Cookie` for a new id; `max_age_s` is used for persistent
    /// cookies.
    pub(crate) fn set(&self, id: &SessionId, max_age_s: u64) -> HeaderValue {
        let mut value = format!("{}={}{}", self.name, id.encode(), self.attributes);
        if self.persistent {
            value.push_str("; Max-Age=");
            value.push_str(&max_age_s.to_string());
        }
        to_header(value)
    }

    /// `Set-Cookie` that removes the cookie (same `Path` and `Domain`).
    pub(crate) fn remove(&self) -> HeaderValue {
        to_header(format!(
            "{}={}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            self.name, self.attributes
        ))
    }
}

fn to_header(value: String) -> HeaderValue {
    // Name, path and domain were checked at build time and the id is
    // base64url, so every byte is a visible ASCII character.
    HeaderValue::try_from(value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether `name` is a cookie name (an RFC 9110 token).
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `value` can be a `Path` or `Domain` attribute value.
pub(crate) fn is_attribute_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| (0x21..0x7f).contains(&b) && b != b';')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(COOKIE, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn finds_one_id_among_other_cookies() {
        let id = SessionId::generate();
        let map = headers(&[&format!("a=1; sid={}; b=2", id.encode())]);
        assert_eq!(find(&map, "sid"), Presented::Id(id));
        assert_eq!(find(&map, "si"), Presented::None);
        assert_eq!(find(&headers(&["a=1"]), "sid"), Presented::None);
    }

    #[test]
    fn junk_and_repeated_cookies_are_bad() {
        let id = SessionId::generate().encode();
        for case in [
            vec!["sid=junk"],
            vec!["sid="],
            vec![&*format!("sid={id}; sid={id}")],
            vec![&*format!("sid={id}"), &*format!("sid={id}")],
            vec![&*format!("sid=\"{id}\"")],
        ] {
            assert_eq!(find(&headers(&case), "sid"), Presented::Bad, "{case:?}");
        }
    }

    #[test]
    fn renders_attributes_and_removal() {
        let format = CookieFormat::new("__Host-sid".into(), "/", None, true, SameSite::Lax, false);
        let id = SessionId::generate();
        let set = format.set(&id, 60);
        assert_eq!(
            set.to_str().unwrap(),
            format!(
                "__Host-sid={}; Path=/; Secure; HttpOnly; SameSite=Lax",
                id.encode()
            )
        );
        assert_eq!(
            format.remove().to_str().unwrap(),
            "__Host-sid=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0; \
             Expires=Thu, 01 Jan 1970 00:00:00 GMT"
        );
        let persistent = CookieFormat::new(
            "sid".into(),
            "/app",
            Some("example.com"),
            false,
            SameSite::Strict,
            true,
        );
        assert_eq!(
            persistent.set(&id, 3600).to_str().unwrap(),
            format!(
                "sid={}; Path=/app; Domain=example.com; HttpOnly; SameSite=Strict; Max-Age=3600",
                id.encode()
            )
        );
    }
}
