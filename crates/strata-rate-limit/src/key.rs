//! Who a request is counted against.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use http::request::Parts;
use http::{Extensions, HeaderMap, HeaderName};
use strata_core::{ClientIp, ClientIpResolver, ConfigError};

/// Longest key, in bytes, a header or identity may produce; a longer value
/// counts as no key (see [`MissingKey`](crate::MissingKey)).
pub const MAX_KEY_LEN: usize = 256;

/// The identity a quota is counted against: a client address, a text
/// identity, or one global bucket.
///
/// Keys made by different [`KeyBy`] kinds never collide: header values are
/// prefixed `h:`, extension identities `id:`. Keys of different kinds never
/// share a bucket either, in any store: `Key::new("global")` is not
/// [`Key::global()`](Self::global), and `Key::new("ip:192.0.2.1")` is not
/// the address (see `RedisStore` for the Redis key
/// format), although their `Display` forms are equal.
///
/// ```
/// use strata_rate_limit::Key;
///
/// assert_eq!(Key::ip("192.0.2.1".parse()?).to_string(), "ip:192.0.2.1");
/// assert_eq!(Key::new("tenant-7").to_string(), "tenant-7");
/// assert_eq!(Key::global().to_string(), "global");
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(Repr);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    Ip(IpAddr),
    Text(Box<str>),
    Global,
}

impl Key {
    /// A key made of `text`, used as given.
    pub fn new(text: impl Into<String>) -> Self {
        Self(Repr::Text(text.into().into_boxed_str()))
    }

    /// A client address.
    pub fn ip(ip: IpAddr) -> Self {
        Self(Repr::Ip(ip))
    }

    /// The one key every request shares.
    pub fn global() -> Self {
        Self(Repr::Global)
    }

    /// Appends the key's form in a Redis key: `ip:<address>`, `global`, or
    /// `t:<text>` with `%`, `{` and `}` escaped as `%25`, `%7B` and `%7D`.
    /// The forms are distinct for distinct keys (a text key cannot forge an
    /// address or the global key), and never contain a brace, so the hash
    /// tag around them stays whole.
    #[cfg(feature = "redis")]
    pub(crate) fn write_redis(&self, out: &mut String) {
        use fmt::Write as _;
        match &self.0 {
            Repr::Ip(ip) => {
                let _ = write!(out, "ip:{ip}");
            }
            Repr::Global => out.push_str("global"),
            Repr::Text(text) => {
                out.push_str("t:");
                if !text.contains(['%', '{', '}']) {
                    out.push_str(text);
                    return;
                }
                for c in text.chars() {
                    match c {
                        '%' => out.push_str("%25"),
                        '{' => out.push_str("%7B"),
                        '}' => out.push_str("%7D"),
                        c => out.push(c),
                    }
                }
            }
        }
    }

    /// The byte length of the key's text form, without allocating it.
    pub(crate) fn is_too_long(&self) -> bool {
        matches!(&self.0, Repr::Text(text) if text.len() > MAX_KEY_LEN)
    }
}

/// One write per key (the derived impl makes four for an IPv4 key, and a
/// keyed hash pays per write). Equal keys write the same bytes; keys of
/// different kinds may collide, which costs a comparison, not correctness.
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            Repr::Ip(IpAddr::V4(ip)) => state.write_u32(ip.to_bits()),
            Repr::Ip(IpAddr::V6(ip)) => state.write_u128(ip.to_bits()),
            Repr::Text(text) => state.write(text.as_bytes()),
            Repr::Global => state.write_u8(0),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Ip(ip) => write!(f, "ip:{ip}"),
            Repr::Text(text) => f.write_str(text),
            Repr::Global => f.write_str("global"),
        }
    }
}

type ExtractFn = dyn Fn(&Parts) -> Option<Key> + Send + Sync;

/// How a request's [`Key`] is found.
///
/// ```
/// use strata_rate_limit::KeyBy;
///
/// let by_ip = KeyBy::client_ip().ipv6_prefix(56);
/// let by_api_key = KeyBy::header(http::HeaderName::from_static("x-api-key"));
/// let everyone = KeyBy::global();
/// # let _ = (by_ip, by_api_key, everyone);
/// ```
#[derive(Clone)]
pub struct KeyBy(KeyKind);

#[derive(Clone)]
enum KeyKind {
    ClientIp {
        resolver: Option<Arc<ClientIpResolver>>,
        v6_prefix: u8,
    },
    Header(HeaderName),
    Custom(Arc<ExtractFn>),
    Global,
}

impl KeyBy {
    /// The client address, IPv6 masked to a `/64` (see
    /// [`ipv6_prefix`](Self::ipv6_prefix)).
    ///
    /// The address is the [`ClientIp`] that
    /// [`ResolveClientIpLayer`](strata_core::ResolveClientIpLayer) stored in the request
    /// extensions (forwarding headers believed from trusted proxies only);
    /// without that layer, the connection's peer address. Forwarding headers
    /// are never read here: put `ResolveClientIpLayer` outside the rate limit, or use
    /// [`client_ip_resolved`](Self::client_ip_resolved).
    pub fn client_ip() -> Self {
        Self(KeyKind::ClientIp {
            resolver: None,
            v6_prefix: 64,
        })
    }

    /// The client address as `resolver` resolves it (a [`ClientIp`] already
    /// in the extensions takes precedence).
    pub fn client_ip_resolved(resolver: ClientIpResolver) -> Self {
        Self(KeyKind::ClientIp {
            resolver: Some(Arc::new(resolver)),
            v6_prefix: 64,
        })
    }

    /// Bits of an IPv6 client address that form the key. Default 64: one
    /// subscriber usually holds a whole `/64`. At most 128; no effect on
    /// other kinds of key.
    #[must_use]
    pub fn ipv6_prefix(mut self, bits: u8) -> Self {
        if let KeyKind::ClientIp { v6_prefix, .. } = &mut self.0 {
            *v6_prefix = bits;
        }
        self
    }

    /// The value of a request header, such as an API key. Values that are
    /// not visible ASCII or longer than [`MAX_KEY_LEN`] count as no key.
    pub fn header(name: HeaderName) -> Self {
        Self(KeyKind::Header(name))
    }

    /// An identity the application stored in the request extensions (for
    /// example the signed-in user's id, inserted by a session or auth layer
    /// running before this one), formatted with `Display`.
    pub fn extension<T>() -> Self
    where
        T: fmt::Display + Send + Sync + 'static,
    {
        Self::from_fn(|parts| {
            let id = parts.extensions.get::<T>()?;
            Some(Key::new(format!("id:{id}")))
        })
    }

    /// A key computed from the request head by `f`; `None` means no key.
    pub fn from_fn<F>(f: F) -> Self
    where
        F: Fn(&Parts) -> Option<Key> + Send + Sync + 'static,
    {
        Self(KeyKind::Custom(Arc::new(f)))
    }

    /// One bucket shared by every request.
    pub fn global() -> Self {
        Self(KeyKind::Global)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        match &self.0 {
            KeyKind::ClientIp { v6_prefix, .. } if *v6_prefix > 128 => Err(ConfigError::invalid(
                "KeyBy::ipv6_prefix",
                "must be at most 128",
            )),
            _ => Ok(()),
        }
    }

    /// Whether the key is the client address (which the server must record).
    pub(crate) fn is_client_ip(&self) -> bool {
        matches!(self.0, KeyKind::ClientIp { .. })
    }

    /// Whether finding the key needs the whole request head (a closure
    /// taking [`Parts`]), not only its headers and extensions.
    pub(crate) fn needs_parts(&self) -> bool {
        matches!(self.0, KeyKind::Custom(_))
    }

    pub(crate) fn extract(&self, parts: &Parts) -> Option<Key> {
        match &self.0 {
            KeyKind::Custom(f) => f(parts).filter(|key| !key.is_too_long()),
            _ => self.extract_head(&parts.headers, &parts.extensions),
        }
    }

    /// The key from the headers and extensions alone; `None` for a
    /// [`from_fn`](Self::from_fn) key (see [`needs_parts`](Self::needs_parts)).
    #[inline]
    pub(crate) fn extract_head(&self, headers: &HeaderMap, extensions: &Extensions) -> Option<Key> {
        match &self.0 {
            KeyKind::ClientIp {
                resolver,
                v6_prefix,
            } => {
                let client = extensions.get::<ClientIp>().copied().or_else(|| {
                    resolver
                        .as_deref()
                        .unwrap_or_else(|| default_resolver())
                        .client_ip_from(headers, extensions)
                })?;
                Some(Key::ip(client.masked(*v6_prefix)))
            }
            KeyKind::Header(name) => {
                let value = headers.get(name)?.to_str().ok()?;
                if value.is_empty() || value.len() > MAX_KEY_LEN {
                    return None;
                }
                Some(Key::new(format!("h:{value}"))).filter(|key| !key.is_too_long())
            }
            KeyKind::Custom(_) => None,
            KeyKind::Global => Some(Key::global()),
        }
    }
}

fn default_resolver() -> &'static ClientIpResolver {
    static RESOLVER: std::sync::OnceLock<ClientIpResolver> = std::sync::OnceLock::new();
    RESOLVER.get_or_init(ClientIpResolver::new)
}

impl fmt::Debug for KeyBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            KeyKind::ClientIp {
                resolver,
                v6_prefix,
            } => f
                .debug_struct("ClientIp")
                .field("resolver", resolver)
                .field("v6_prefix", v6_prefix)
                .finish(),
            KeyKind::Header(name) => f.debug_tuple("Header").field(name).finish(),
            KeyKind::Custom(_) => f.write_str("Custom"),
            KeyKind::Global => f.write_str("Global"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    use super::*;

    fn parts(header: Option<&str>) -> Parts {
        let mut builder = http::Request::builder();
        if let Some(value) = header {
            builder = builder.header("x-api-key", value);
        }
        let mut request = builder.body(()).expect("request");
        request
            .extensions_mut()
            .insert(std::net::SocketAddr::from(([192, 0, 2, 7], 4000)));
        request.into_parts().0
    }

    #[test]
    fn head_and_parts_find_the_same_key() {
        let name = HeaderName::from_static("x-api-key");
        let longest = "k".repeat(MAX_KEY_LEN - 2);
        let too_long = "k".repeat(MAX_KEY_LEN - 1);
        for header in [
            None,
            Some("abc"),
            Some(longest.as_str()),
            Some(too_long.as_str()),
        ] {
            let parts = parts(header);
            for key_by in [
                KeyBy::client_ip(),
                KeyBy::header(name.clone()),
                KeyBy::global(),
            ] {
                assert!(!key_by.needs_parts());
                assert_eq!(
                    key_by.extract(&parts),
                    key_by.extract_head(&parts.headers, &parts.extensions)
                );
            }
        }
        let by_header = KeyBy::header(name);
        // "h:" + value may be at most MAX_KEY_LEN bytes.
        assert!(by_header.extract(&parts(Some(&longest))).is_some());
        assert_eq!(by_header.extract(&parts(Some(&too_long))), None);
        assert!(KeyBy::from_fn(|_| Some(Key::global())).needs_parts());
    }

    #[test]
    fn equal_keys_hash_equal_and_kinds_stay_distinct() {
        let hasher = std::hash::RandomState::new();
        let v4 = Key::ip("192.0.2.1".parse().expect("ip"));
        let v6 = Key::ip("2001:db8::".parse().expect("ip"));
        assert_eq!(hasher.hash_one(&v4), hasher.hash_one(v4.clone()));
        assert_eq!(hasher.hash_one(&v6), hasher.hash_one(v6.clone()));
        let keys: HashSet<Key> = [
            v4,
            v6,
            Key::new("ip:192.0.2.1"),
            Key::new(""),
            Key::global(),
            Key::new("global"),
        ]
        .into_iter()
        .collect();
        assert_eq!(keys.len(), 6);
    }
}
