use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

use crate::ConfigError;

/// A list of CIDR blocks whose forwarding headers are believed.
///
/// Parsed from a comma-separated list (the form of the `TRUSTED_PROXIES`
/// environment variable): `"10.0.0.0/8, 192.168.1.7, fd00::/8"`. A bare address
/// means that one host. Whitespace and empty entries are ignored; anything else
/// that is not an address or a CIDR block is a [`ConfigError`].
///
/// ```
/// use strata_core::{ConfigError, TrustedProxies};
///
/// let proxies: TrustedProxies = "10.0.0.0/8, 2001:db8::1".parse()?;
/// assert!(proxies.contains("10.1.2.3".parse()?));
/// assert!(!proxies.contains("11.0.0.1".parse()?));
/// let bad = "10.0.0.0/33".parse::<TrustedProxies>();
/// assert!(matches!(bad, Err(ConfigError::InvalidProxy { value, .. }) if value == "10.0.0.0/33"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    /// Trusts nobody: forwarding headers are never read.
    pub fn none() -> Self {
        Self::default()
    }

    /// Loopback and private ranges: `127.0.0.0/8`, `10.0.0.0/8`,
    /// `172.16.0.0/12`, `192.168.0.0/16`, `::1/128`, `fc00::/7`.
    ///
    /// Only correct when every such address in front of the service is a proxy
    /// you run (a typical Kubernetes ingress). Any other host in these ranges
    /// could claim to be anyone.
    pub fn private_networks() -> Self {
        let nets = [
            "127.0.0.0/8",
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "::1/128",
            "fc00::/7",
        ];
        Self {
            nets: nets.iter().filter_map(|net| net.parse().ok()).collect(),
        }
    }

    /// Builds the list from addresses or CIDR blocks.
    pub fn new<I, S>(entries: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut nets = Vec::new();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if !entry.is_empty() {
                nets.push(parse_net(entry)?);
            }
        }
        Ok(Self { nets })
    }

    /// Whether `ip` lies in one of the blocks. IPv4-mapped IPv6 addresses are
    /// matched as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// `true` when no proxy is trusted.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The blocks, in the order given.
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }
}

impl FromStr for TrustedProxies {
    type Err = ConfigError;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        Self::new(list.split(','))
    }
}

impl FromIterator<IpNet> for TrustedProxies {
    fn from_iter<T: IntoIterator<Item = IpNet>>(iter: T) -> Self {
        Self {
            nets: iter.into_iter().map(|net| net.trunc()).collect(),
        }
    }
}

fn parse_net(entry: &str) -> Result<IpNet, ConfigError> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Ok(IpNet::from(ip.to_canonical()));
    }
    entry
        .parse::<IpNet>()
        .map(|net| net.trunc())
        .map_err(|source| ConfigError::InvalidProxy {
            value: entry.to_owned(),
            source,
        })
}
