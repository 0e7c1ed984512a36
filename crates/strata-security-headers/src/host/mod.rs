//! The host a request is addressed to: `:authority` (HTTP/2, absolute-form)
//! or `Host`, parsed strictly.

mod trusted;

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use http::uri::Authority;
use http::{HeaderMap, Uri, header};

pub use self::trusted::{TrustedHost, TrustedHostBuilder, TrustedHostLayer};

/// A host name or IP literal, normalised: lower case, no trailing dot, IPv6
/// without brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    Name(String),
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(name) => f.write_str(name),
            Self::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Self::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
        }
    }
}

/// The target of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) host: Host,
    pub(crate) port: Option<u16>,
}

/// Why [`TrustedHostLayer`] (or [`HttpsRedirectLayer`](crate::HttpsRedirectLayer))
/// refused a request; stored in the 400 response's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostRejection {
    /// No `Host` header and no URI authority.
    Missing,
    /// Several `Host` headers, or a `Host` that disagrees with `:authority`.
    Ambiguous,
    /// Not a host name or IP literal, userinfo, or a bad port.
    Malformed,
    /// A well-formed host that is not in the allowed list.
    NotAllowed,
}

impl HostRejection {
    /// The `detail` of the problem response.
    pub fn detail(self) -> &'static str {
        match self {
            Self::Missing => "the request names no host",
            Self::Ambiguous => "the request names more than one host",
            Self::Malformed => "the request's host is malformed",
            Self::NotAllowed => "this host is not served here",
        }
    }

    pub(crate) fn into_response<B: From<bytes::Bytes>>(self) -> http::Response<B> {
        let mut response = strata_core::Problem::new(http::StatusCode::BAD_REQUEST)
            .detail(self.detail())
            .into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Reads the request's target: the URI authority (HTTP/2 `:authority`, or an
/// absolute-form request line) or else the single `Host` header. Both present
/// and different, several `Host` headers, userinfo, or anything that is not a
/// host name or IP literal is an error.
pub(crate) fn target(uri: &Uri, headers: &HeaderMap) -> Result<Target, HostRejection> {
    let mut hosts = headers.get_all(header::HOST).iter();
    let host_header = hosts.next();
    if hosts.next().is_some() {
        return Err(HostRejection::Ambiguous);
    }
    let from_header = host_header
        .map(|value| {
            let text = value.to_str().map_err(|_| HostRejection::Malformed)?;
            parse_authority(text)
        })
        .transpose()?;
    match (uri.authority(), from_header) {
        (Some(authority), header) => {
            let target = parse_authority(authority.as_str())?;
            if header.is_some_and(|h| h != target) {
                return Err(HostRejection::Ambiguous);
            }
            Ok(target)
        }
        (None, Some(header)) => Ok(header),
        (None, None) => Err(HostRejection::Missing),
    }
}

fn parse_authority(text: &str) -> Result<Target, HostRejection> {
    if text.is_empty() || text.contains('@') {
        return Err(HostRejection::Malformed);
    }
    let authority: Authority = text.parse().map_err(|_| HostRejection::Malformed)?;
    if authority.as_str().len() != text.len() {
        return Err(HostRejection::Malformed);
    }
    let rest = &text[authority.host().len()..];
    let port = match rest.strip_prefix(':') {
        Some(port) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            Some(port.parse::<u16>().map_err(|_| HostRejection::Malformed)?)
        }
        None if rest.is_empty() => None,
        _ => return Err(HostRejection::Malformed),
    };
    let host = parse_host(authority.host()).ok_or(HostRejection::Malformed)?;
    Ok(Target { host, port })
}

/// A host name (letters, digits, `-`, `_`, dots), an IPv4 literal, or a
/// bracketed IPv6 literal.
pub(crate) fn parse_host(text: &str) -> Option<Host> {
    if let Some(inner) = text.strip_prefix('[') {
        let ip: Ipv6Addr = inner.strip_suffix(']')?.parse().ok()?;
        return Some(Host::Ip(IpAddr::V6(ip)));
    }
    let text = text.strip_suffix('.').unwrap_or(text);
    if let Ok(ip) = text.parse::<std::net::Ipv4Addr>() {
        return Some(Host::Ip(IpAddr::V4(ip)));
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if text.len() > 253 || !text.split('.').all(label_ok) {
        return None;
    }
    // All-numeric dotted names that are not valid IPv4 (`999.1.1.1`) are junk.
    if text
        .split('.')
        .all(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some(Host::Name(text.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(hosts: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for host in hosts {
            map.append(header::HOST, host.parse().expect("valid header"));
        }
        map
    }

    fn read(uri: &str, hosts: &[&str]) -> Result<String, HostRejection> {
        let uri: Uri = uri.parse().expect("valid uri");
        target(&uri, &headers(hosts)).map(|t| match t.port {
            Some(port) => format!("{}:{port}", t.host),
            None => t.host.to_string(),
        })
    }

    #[test]
    fn reads_host_names_ips_and_ports() {
        assert_eq!(read("/", &["Example.COM."]).as_deref(), Ok("example.com"));
        assert_eq!(
            read("/", &["example.com:8080"]).as_deref(),
            Ok("example.com:8080")
        );
        assert_eq!(read("/", &["[::1]:3000"]).as_deref(), Ok("[::1]:3000"));
        assert_eq!(
            read("/", &["[2001:DB8:0::1]"]).as_deref(),
            Ok("[2001:db8::1]")
        );
        assert_eq!(read("/", &["127.0.0.1:80"]).as_deref(), Ok("127.0.0.1:80"));
        assert_eq!(
            read("https://api.example.com/x", &[]).as_deref(),
            Ok("api.example.com")
        );
        assert_eq!(
            read("https://a.example.com/x", &["a.example.com"]).as_deref(),
            Ok("a.example.com")
        );
    }

    #[test]
    fn refuses_junk_and_ambiguity() {
        use HostRejection::*;
        assert_eq!(read("/", &[]), Err(Missing));
        assert_eq!(read("/", &["a.com", "b.com"]), Err(Ambiguous));
        assert_eq!(read("https://a.com/", &["b.com"]), Err(Ambiguous));
        for junk in [
            "",
            "a b",
            "user@a.com",
            "a.com:",
            "a.com:99999",
            "a.com:+1",
            "::1",
            "[::1",
            "[zz::1]",
            "999.1.1.1",
            "a..com",
            "a.com/x",
        ] {
            assert_eq!(read("/", &[junk]), Err(Malformed), "{junk:?}");
        }
    }
}
