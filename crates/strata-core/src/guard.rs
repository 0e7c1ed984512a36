//! Who may read an internal endpoint (`/metrics`, detailed health): an
//! address allow-list, a bearer token, or both.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use http::header::AUTHORIZATION;
use http::{Extensions, HeaderMap, Request};
use subtle::ConstantTimeEq;

use crate::{ClientIp, ClientIpResolver, ConfigError, TrustedProxies};

/// Longest bearer token [`AccessGuardBuilder::bearer_token`] accepts.
pub const MAX_TOKEN_LEN: usize = 4096;

/// How the checks of an [`AccessGuard`] combine when both are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum GuardRule {
    /// A request must pass every check that is set: its address is in the
    /// allow-list **and** it carries the token. The default.
    #[default]
    All,
    /// A request passing any check that is set is admitted: an address in
    /// the allow-list, **or** the token (operators reading from outside).
    Any,
}

/// Why an [`AccessGuard`] refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessRefusal {
    /// The client address is outside the allow-list, unresolved
    /// ([`ClientIp::is_resolved`] is `false`), or unknown (no peer address).
    Address,
    /// The `Authorization: Bearer` token is missing or wrong.
    Token,
}

/// Admits requests by client address, bearer token, or both; shared by the
/// strata endpoints that must not be public (the metrics exporter, the
/// detailed health reports). Built by [`AccessGuard::builder`].
///
/// - **Address**: the [`ClientIp`] a
///   [`ResolveClientIpLayer`](crate::ResolveClientIpLayer) stored in the
///   request, else the peer address (a [`SocketAddr`](std::net::SocketAddr)
///   extension, or axum's `ConnectInfo` with feature `axum`). It must lie in
///   the [allow-list](AccessGuardBuilder::allow_ips). An
///   [unresolved](ClientIp::unresolved) client is refused whatever the list
///   holds; a request with no address at all is refused, and the first one
///   logs a warning (serve with `into_make_service_with_connect_info`, or
///   run a `ResolveClientIpLayer`).
/// - **Token**: `Authorization: Bearer <token>` (scheme case-insensitive),
///   compared in constant time.
/// - With both, the [`GuardRule`] decides: [`All`](GuardRule::All) (the
///   default) requires both, [`Any`](GuardRule::Any) admits either.
///
/// ```
/// use std::net::SocketAddr;
/// use strata_core::guard::{AccessGuard, AccessRefusal};
/// use strata_core::TrustedProxies;
///
/// let guard = AccessGuard::builder()
///     .allow_ips(TrustedProxies::private_networks())
///     .bearer_token("s3cret")
///     .build()?;
///
/// let request = |peer: [u8; 4], token: &str| {
///     http::Request::builder()
///         .header("authorization", format!("Bearer {token}"))
///         .extension(SocketAddr::from((peer, 9000)))
///         .body(())
/// };
/// assert_eq!(guard.check(&request([10, 0, 0, 7], "s3cret")?), Ok(()));
/// assert_eq!(guard.check(&request([203, 0, 113, 1], "s3cret")?), Err(AccessRefusal::Address));
/// assert_eq!(guard.check(&request([10, 0, 0, 7], "guess")?), Err(AccessRefusal::Token));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AccessGuard {
    allowed: Option<TrustedProxies>,
    token: Option<Box<[u8]>>,
    rule: GuardRule,
}

impl fmt::Debug for AccessGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessGuard")
            .field("allowed", &self.allowed)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("rule", &self.rule)
            .finish()
    }
}

impl AccessGuard {
    /// A builder with no check set; [`build`](AccessGuardBuilder::build)
    /// needs at least one.
    pub fn builder() -> AccessGuardBuilder {
        AccessGuardBuilder::default()
    }

    /// Whether `request` is admitted, and if not, why.
    pub fn check<B>(&self, request: &Request<B>) -> Result<(), AccessRefusal> {
        self.check_parts(request.headers(), request.extensions())
    }

    /// [`check`](Self::check) from the parts of a request.
    pub fn check_parts(
        &self,
        headers: &HeaderMap,
        extensions: &Extensions,
    ) -> Result<(), AccessRefusal> {
        let address = self.allowed.as_ref().map(|allowed| {
            client(extensions)
                .is_some_and(|client| client.is_resolved() && allowed.contains(client.ip()))
        });
        let token = self
            .token
            .as_deref()
            .map(|token| bearer_matches(headers, token));
        let refusal = |address: Option<bool>| {
            if address == Some(false) {
                AccessRefusal::Address
            } else {
                AccessRefusal::Token
            }
        };
        match self.rule {
            GuardRule::All if address != Some(false) && token != Some(false) => Ok(()),
            GuardRule::All => Err(refusal(address)),
            GuardRule::Any if address == Some(true) || token == Some(true) => Ok(()),
            // Both failed: presenting the token is what the client can fix.
            GuardRule::Any => Err(refusal(address.filter(|_| token.is_none()))),
        }
    }
}

/// Settings of an [`AccessGuard`].
#[derive(Clone, Default)]
#[must_use]
pub struct AccessGuardBuilder {
    allowed: Option<TrustedProxies>,
    token: Option<String>,
    rule: GuardRule,
}

impl fmt::Debug for AccessGuardBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessGuardBuilder")
            .field("allowed", &self.allowed)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("rule", &self.rule)
            .finish()
    }
}

impl AccessGuardBuilder {
    /// Admits clients whose address lies in `allowed` (addresses and CIDR
    /// blocks, parsed like [`TrustedProxies`]: `"10.0.0.0/8, ::1".parse()?`).
    /// Must not be empty.
    pub fn allow_ips(mut self, allowed: TrustedProxies) -> Self {
        self.allowed = Some(allowed);
        self
    }

    /// Admits requests carrying `Authorization: Bearer <token>`: 1 to
    /// [`MAX_TOKEN_LEN`] visible ASCII characters (checked by
    /// [`build`](Self::build)).
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// How the two checks combine when both are set. Default
    /// [`GuardRule::All`].
    pub fn rule(mut self, rule: GuardRule) -> Self {
        self.rule = rule;
        self
    }

    /// Checks the settings: [`ConfigError::Invalid`] for `bearer_token`
    /// (empty, too long, not visible ASCII) or `allow_ips` (an empty list,
    /// or neither check set).
    pub fn build(self) -> Result<AccessGuard, ConfigError> {
        if self.allowed.is_none() && self.token.is_none() {
            return Err(ConfigError::invalid(
                "allow_ips",
                "an access guard needs allow_ips, bearer_token or both",
            ));
        }
        if self.allowed.as_ref().is_some_and(TrustedProxies::is_empty) {
            return Err(ConfigError::invalid(
                "allow_ips",
                "the list is empty: no address would be admitted",
            ));
        }
        if let Some(token) = &self.token
            && (token.is_empty()
                || token.len() > MAX_TOKEN_LEN
                || !token.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(ConfigError::invalid(
                "bearer_token",
                "must be 1 to 4096 visible ASCII characters",
            ));
        }
        Ok(AccessGuard {
            allowed: self.allowed,
            token: self.token.map(|t| t.into_bytes().into_boxed_slice()),
            rule: self.rule,
        })
    }
}

/// The resolved client, else the peer address; `None` (and a warning, once)
/// when the request carries neither.
fn client(extensions: &Extensions) -> Option<ClientIp> {
    if let Some(client) = extensions.get::<ClientIp>() {
        return Some(*client);
    }
    // No proxy trusted: the resolver returns the peer address as it is.
    let peer = ClientIpResolver::new().client_ip_from(&HeaderMap::new(), extensions);
    if peer.is_none() {
        warn_no_address_once();
    }
    peer
}

fn warn_no_address_once() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "an access guard with allow_ips found no client address (no ClientIp, no \
             peer address): the request is refused. Serve with \
             into_make_service_with_connect_info::<SocketAddr>() (feature `axum`), insert \
             the peer SocketAddr, or run a ResolveClientIpLayer first; logged once"
        );
    }
}

fn bearer_matches(headers: &HeaderMap, token: &[u8]) -> bool {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return false;
    };
    let Some((scheme, given)) = value.as_bytes().split_at_checked(7) else {
        return false;
    };
    // The length is not secret; the bytes are compared in constant time.
    scheme.eq_ignore_ascii_case(b"bearer ") && bool::from(given.ct_eq(token))
}
