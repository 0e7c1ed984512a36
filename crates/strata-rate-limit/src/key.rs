//! Who a request is counted against.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use http::HeaderName;
use http::request::Parts;
use strata_core::{ClientIp, ClientIpResolver, ConfigError};

/// Longest key, in bytes, a header or identity may produce; a longer value
/// counts as no key (see [`MissingKey`](crate::MissingKey)).
pub const MAX_KEY_LEN: usize = 256;

/// The identity a quota is counted against: a client address, a text
/// identity, or one global bucket.
///
/// Keys made by different [`KeyBy`] kinds never collide: header values are
/// prefixed `h:`, extension identities `id:`.
///
/// ```
/// use strata_rate_limit::Key;
///
/// assert_eq!(Key::ip("192.0.2.1".parse()?).to_string(), "ip:192.0.2.1");
/// assert_eq!(Key::new("tenant-7").to_string(), "tenant-7");
/// assert_eq!(Key::global().to_string(), "global");
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(Repr);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

    /// The byte length of the key's text form, without allocating it.
    pub(crate) fn is_too_long(&self) -> bool {
        matches!(&self.0, Repr::Text(text) if text.len() > MAX_KEY_LEN)
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
    /// [`ClientIpLayer`](strata_core::ClientIpLayer) stored in the request
    /// extensions (forwarding headers believed from trusted proxies only);
    /// without that layer, the connection's peer address. Forwarding headers
    /// are never read here: put `ClientIpLayer` outside the rate limit, or use
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
            KeyKind::ClientIp { v6_prefix, .. } if *v6_prefix > 128 => {
                Err(ConfigError::OutOfRange {
                    name: "ipv6_prefix",
                    reason: "must be at most 128",
                })
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn extract(&self, parts: &Parts) -> Option<Key> {
        let key = match &self.0 {
            KeyKind::ClientIp {
                resolver,
                v6_prefix,
            } => {
                let client = parts.extensions.get::<ClientIp>().copied().or_else(|| {
                    resolver
                        .as_deref()
                        .unwrap_or_else(|| default_resolver())
                        .client_ip_from(&parts.headers, &parts.extensions)
                })?;
                return Some(Key::ip(client.masked(*v6_prefix)));
            }
            KeyKind::Header(name) => {
                let value = parts.headers.get(name)?.to_str().ok()?;
                if value.is_empty() || value.len() > MAX_KEY_LEN {
                    return None;
                }
                Key::new(format!("h:{value}"))
            }
            KeyKind::Custom(f) => f(parts)?,
            KeyKind::Global => return Some(Key::global()),
        };
        (!key.is_too_long()).then_some(key)
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
