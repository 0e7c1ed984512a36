//! The client address and scheme of a request, believed from forwarding headers
//! only when they come through trusted proxies.

mod layer;
mod parse;
#[cfg(test)]
mod tests;
mod trusted;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};

use http::header::{FORWARDED, HeaderMap};
use http::{Extensions, HeaderName, Request};

pub use self::layer::{ResolveClientIp, ResolveClientIpLayer};
use self::parse::Hop;
pub use self::trusted::TrustedProxies;

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// The address of the client that sent a request, as resolved by a
/// [`ClientIpResolver`].
///
/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are stored as IPv4, so a
/// dual-stack listener and an IPv4 listener give the same value.
///
/// When a trusted proxy forwarded a chain whose client entry cannot be read,
/// the client is [unresolved](Self::unresolved): its address is `0.0.0.0`
/// (in no private or loopback range, so an allow-list of internal networks
/// refuses it) and [`is_resolved`](Self::is_resolved) is `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp {
    ip: IpAddr,
    source: IpSource,
}

impl ClientIp {
    /// Wraps an address as seen directly on the connection.
    pub fn from_peer(ip: IpAddr) -> Self {
        Self {
            ip: ip.to_canonical(),
            source: IpSource::Peer,
        }
    }

    /// The client of a request whose forwarding chain came from a trusted
    /// proxy but could not be read where the client should be: address
    /// `0.0.0.0`, source [`IpSource::Unresolved`].
    ///
    /// It is never the proxy's own address. Allow-lists of private networks
    /// refuse it; every unresolved request shares it as a rate-limit key.
    ///
    /// ```
    /// use strata_core::{ClientIp, IpSource, TrustedProxies};
    ///
    /// let unknown = ClientIp::unresolved();
    /// assert!(!unknown.is_resolved());
    /// assert_eq!(unknown.source(), IpSource::Unresolved);
    /// assert!(!TrustedProxies::private_networks().contains(unknown.ip()));
    /// ```
    pub const fn unresolved() -> Self {
        Self {
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            source: IpSource::Unresolved,
        }
    }

    /// `false` for an [unresolved](Self::unresolved) client.
    pub fn is_resolved(&self) -> bool {
        self.source != IpSource::Unresolved
    }

    /// The client address (`0.0.0.0` when [unresolved](Self::unresolved)).
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// Where the address was read from.
    pub fn source(&self) -> IpSource {
        self.source
    }

    /// The address masked for use as a key: IPv4 unchanged, IPv6 cut to
    /// `v6_prefix` bits (see [`mask_ipv6`]).
    #[inline]
    pub fn masked(&self, v6_prefix: u8) -> IpAddr {
        mask_ipv6(self.ip, v6_prefix)
    }
}

impl fmt::Display for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.ip.fmt(f)
    }
}

/// Where a [`ClientIp`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IpSource {
    /// The connection's peer address: the peer is not a trusted proxy, or it
    /// is one and forwarded no header.
    Peer,
    /// An `X-Forwarded-For` entry written by a trusted proxy.
    XForwardedFor,
    /// A `Forwarded` (RFC 7239) `for=` parameter written by a trusted proxy.
    Forwarded,
    /// A trusted proxy forwarded a chain, but the entry where the client
    /// should be is unreadable or beyond [`ClientIpResolver::max_hops`]: see
    /// [`ClientIp::unresolved`].
    Unresolved,
}

/// The scheme the client used to reach the service (or its first trusted proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scheme {
    /// Plain HTTP.
    #[default]
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// `true` for [`Scheme::Https`].
    pub fn is_https(self) -> bool {
        self == Self::Https
    }

    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("https") || text.eq_ignore_ascii_case("wss") {
            Some(Self::Https)
        } else if text.eq_ignore_ascii_case("http") || text.eq_ignore_ascii_case("ws") {
            Some(Self::Http)
        } else {
            None
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which forwarding header the trusted proxies write.
///
/// Only that header is read: a header the proxies pass through untouched is
/// written by the client, and believing it would let anyone choose their address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` for the address and `X-Forwarded-Proto` for the scheme
    /// (nginx, HAProxy, Envoy, cloud load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239) `for=` and `proto=`.
    Forwarded,
}

/// Resolves the [`ClientIp`] and [`Scheme`] of requests.
///
/// The peer address comes from the request extensions: axum's
/// `ConnectInfo<SocketAddr>` or `MockConnectInfo<SocketAddr>` (feature `axum`),
/// or a plain [`SocketAddr`] (what a hyper server inserts itself).
/// When the peer is a trusted proxy, the forwarding header is walked **from the
/// right**, skipping trusted proxies; the first untrusted hop is the client.
/// Entries to its left were written by the client and are never read. If every
/// hop is trusted, the leftmost one is the client. Several header lines are one
/// list, in order.
///
/// Each entry is read on its own, from the header's bytes, so junk a client
/// put to the left of its real address (`\xe9, 203.0.113.5`, `unknown,
/// 203.0.113.5`) is never looked at. When the walk reaches an entry it cannot
/// read before finding the client (`unknown`, `_hidden`, an empty entry, junk,
/// non-UTF-8 bytes, a `Forwarded` element without `for=`) or when the chain is
/// longer than [`max_hops`](Self::max_hops), the client cannot be known. It is
/// then [`ClientIp::unresolved`] (`0.0.0.0`, [`IpSource::Unresolved`]), never
/// the address of a proxy: a guard limited to private networks refuses it,
/// and all such requests share one rate-limit key. The first unresolved
/// request logs a warning (the proxies write something other than addresses,
/// or the chain needs a larger `max_hops`).
///
/// | peer | header | client |
/// |---|---|---|
/// | untrusted | anything | the peer, [`IpSource::Peer`] |
/// | trusted | none | the peer, [`IpSource::Peer`] |
/// | trusted | `junk, 203.0.113.5` | `203.0.113.5` |
/// | trusted | `203.0.113.5, unknown` | unresolved |
/// | trusted | more than `max_hops` trusted entries | unresolved |
///
/// ```
/// use std::net::SocketAddr;
/// use strata_core::{ClientIpResolver, IpSource, TrustedProxies};
///
/// let resolver = ClientIpResolver::new()
///     .trusted_proxies("10.0.0.0/8".parse::<TrustedProxies>()?);
/// let mut request = http::Request::builder()
///     .header("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.2")
///     .body(())?;
/// request.extensions_mut().insert(SocketAddr::from(([10, 0, 0, 1], 4000)));
///
/// let client = resolver.client_ip(&request).expect("peer address present");
/// assert_eq!(client.ip().to_string(), "203.0.113.9"); // 6.6.6.6 was spoofed
/// assert_eq!(client.source(), IpSource::XForwardedFor);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientIpResolver {
    trusted: TrustedProxies,
    header: ForwardedHeader,
    max_hops: usize,
}

impl Default for ClientIpResolver {
    fn default() -> Self {
        Self::new()
    }
}

/// Default for [`ClientIpResolver::max_hops`].
pub const DEFAULT_MAX_HOPS: usize = 16;

impl ClientIpResolver {
    /// A resolver that trusts no proxy: the client is the peer address.
    pub fn new() -> Self {
        Self {
            trusted: TrustedProxies::none(),
            header: ForwardedHeader::default(),
            max_hops: DEFAULT_MAX_HOPS,
        }
    }

    /// The proxies whose forwarding headers are believed. Default: none.
    #[must_use]
    pub fn trusted_proxies(mut self, trusted: TrustedProxies) -> Self {
        self.trusted = trusted;
        self
    }

    /// The header the trusted proxies write. Default: `X-Forwarded-For`.
    #[must_use]
    pub fn header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// How many forwarding entries are read at most, from the right; when
    /// all of them are trusted and more follow, the client is
    /// [unresolved](ClientIp::unresolved). Default: [`DEFAULT_MAX_HOPS`].
    /// The work per request is bounded by this and by the header's length
    /// (which the server bounds).
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use strata_core::ClientIpResolver;
    ///
    /// let resolver = ClientIpResolver::new().max_hops(NonZeroUsize::new(4).expect("non-zero"));
    /// # drop(resolver);
    /// ```
    #[must_use]
    pub fn max_hops(mut self, max_hops: std::num::NonZeroUsize) -> Self {
        self.max_hops = max_hops.get();
        self
    }

    /// The trusted proxies this resolver believes.
    pub fn trusted(&self) -> &TrustedProxies {
        &self.trusted
    }

    /// The client address of `request`, or `None` when the request carries no
    /// peer address (the server did not record it).
    pub fn client_ip<B>(&self, request: &Request<B>) -> Option<ClientIp> {
        self.client_ip_from(request.headers(), request.extensions())
    }

    /// The scheme the client used, under the same trust rule as the address:
    /// when the peer is a trusted proxy, the scheme it forwarded
    /// (`X-Forwarded-Proto` or `Forwarded: proto=`); otherwise the
    /// connection's, which is a [`Scheme`] the server put in the request
    /// extensions (a TLS listener inserts `Scheme::Https`), else HTTP.
    ///
    /// The request target's own scheme (an absolute-form
    /// `GET https://host/ HTTP/1.1`, HTTP/2's `:scheme`) is chosen by the
    /// client and never read.
    pub fn scheme<B>(&self, request: &Request<B>) -> Scheme {
        self.scheme_from(request.headers(), request.extensions())
    }

    /// [`client_ip`](Self::client_ip) from the parts of a request.
    #[inline]
    pub fn client_ip_from(&self, headers: &HeaderMap, extensions: &Extensions) -> Option<ClientIp> {
        let peer = peer_ip(extensions)?;
        if self.trusted.is_empty() {
            // No proxy is trusted: no header is read (the walk would stop at
            // the peer). `peer` is already canonical.
            return Some(ClientIp {
                ip: peer,
                source: IpSource::Peer,
            });
        }
        Some(match self.walk(peer, headers) {
            Walk::Peer => ClientIp::from_peer(peer),
            Walk::Unresolved { .. } => {
                warn_unresolved_once();
                ClientIp::unresolved()
            }
            Walk::Hop { ip, .. } => ClientIp {
                ip,
                source: match self.header {
                    ForwardedHeader::XForwardedFor => IpSource::XForwardedFor,
                    ForwardedHeader::Forwarded => IpSource::Forwarded,
                },
            },
        })
    }

    /// [`scheme`](Self::scheme) from the parts of a request.
    pub fn scheme_from(&self, headers: &HeaderMap, extensions: &Extensions) -> Scheme {
        let connection = connection_scheme(extensions);
        let Some(peer) = peer_ip(extensions) else {
            return connection;
        };
        if !self.trusted.contains(peer) {
            return connection;
        }
        // The entry written by the proxy that received the client's request;
        // when the client is unresolved, the one written by the proxy that
        // received the unreadable hop's request (the outermost one read).
        let index = match self.walk(peer, headers) {
            Walk::Hop { index, .. } | Walk::Unresolved { index } => index,
            Walk::Peer => 0,
        };
        let claimed = match self.header {
            ForwardedHeader::XForwardedFor => {
                let entries: Vec<Option<Scheme>> =
                    parse::proto_entries(headers.get_all(&X_FORWARDED_PROTO).iter())
                        .take(self.max_hops)
                        .collect();
                // Proxies that overwrite instead of append leave fewer entries:
                // use the leftmost one there is.
                entries.get(index).or(entries.last()).copied().flatten()
            }
            ForwardedHeader::Forwarded => {
                parse::forwarded_elements(headers.get_all(FORWARDED).iter(), self.max_hops)
                    .get(index)
                    .and_then(|element| element.proto)
            }
        };
        claimed.unwrap_or(connection)
    }

    fn walk(&self, peer: IpAddr, headers: &HeaderMap) -> Walk {
        if !self.trusted.contains(peer) {
            return Walk::Peer;
        }
        match self.header {
            ForwardedHeader::XForwardedFor => {
                self.walk_hops(parse::xff_hops(headers.get_all(&X_FORWARDED_FOR).iter()))
            }
            ForwardedHeader::Forwarded => {
                let elements =
                    parse::forwarded_elements(headers.get_all(FORWARDED).iter(), self.max_hops + 1);
                self.walk_hops(elements.into_iter().map(|element| element.node))
            }
        }
    }

    fn walk_hops(&self, hops: impl Iterator<Item = Hop>) -> Walk {
        // No entry at all: the proxy forwarded no header, the peer is the client.
        let mut last = Walk::Peer;
        for (index, hop) in hops.enumerate() {
            if index == self.max_hops {
                return Walk::Unresolved { index };
            }
            let Hop::Ip(ip) = hop else {
                return Walk::Unresolved { index };
            };
            last = Walk::Hop { ip, index };
            if !self.trusted.contains(ip) {
                break;
            }
        }
        last
    }
}

/// Outcome of walking a forwarding chain.
enum Walk {
    /// Use the peer address (untrusted, or no forwarding entry).
    Peer,
    /// The walk stopped at entry `index` (unreadable, or `max_hops`) before
    /// finding the client.
    Unresolved { index: usize },
    /// The client is entry `index` from the right.
    Hop { ip: IpAddr, index: usize },
}

/// Logs, once per process, that a client could not be resolved.
fn warn_unresolved_once() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "a trusted proxy forwarded a chain whose client entry is unreadable \
             (unknown, obfuscated, empty, junk) or beyond max_hops: the client is \
             unresolved (0.0.0.0). Make the proxies append the peer address, or \
             raise ClientIpResolver::max_hops; logged once"
        );
    }
}

/// The peer address recorded by the server, canonicalised.
#[inline]
fn peer_ip(extensions: &Extensions) -> Option<IpAddr> {
    #[cfg(feature = "axum")]
    {
        use axum::extract::ConnectInfo;
        use axum::extract::connect_info::MockConnectInfo;
        if let Some(ConnectInfo(addr)) = extensions.get::<ConnectInfo<SocketAddr>>() {
            return Some(addr.ip().to_canonical());
        }
        if let Some(MockConnectInfo(addr)) = extensions.get::<MockConnectInfo<SocketAddr>>() {
            return Some(addr.ip().to_canonical());
        }
    }
    extensions
        .get::<SocketAddr>()
        .map(|addr| addr.ip().to_canonical())
}

/// The scheme of the connection itself: a [`Scheme`] extension the server set
/// (for example a TLS acceptor), else HTTP.
///
/// The request target's scheme (`GET https://host/ HTTP/1.1`, HTTP/2
/// `:scheme`) is written by the client and says nothing about the connection.
fn connection_scheme(extensions: &Extensions) -> Scheme {
    extensions.get::<Scheme>().copied().unwrap_or_default()
}

/// Masks an address for use as a key: IPv4 is returned unchanged, IPv6 keeps
/// its first `prefix` bits (clamped to 128) and zeroes the rest.
///
/// One IPv6 subscriber usually holds a whole `/64` (or `/56`, `/48`), so keying
/// by the full address lets a single client rotate through 2^64 keys.
///
/// ```
/// use std::net::IpAddr;
/// let ip: IpAddr = "2001:db8:1:2:3:4:5:6".parse()?;
/// assert_eq!(strata_core::mask_ipv6(ip, 64).to_string(), "2001:db8:1:2::");
/// let v4: IpAddr = "192.0.2.7".parse()?;
/// assert_eq!(strata_core::mask_ipv6(v4, 64), v4);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[inline]
pub fn mask_ipv6(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u32::from(prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
        v4 => v4,
    }
}
