//! Session ids: what the cookie carries, and what the store sees of it.
//!
//! A cookie value is 32 bytes from the operating system's CSPRNG (through
//! `rand`'s thread generator), base64url without padding (43 characters):
//! a 16-byte record id followed by a 16-byte secret. The store keys the
//! record by the record id and keeps only the SHA-256 of the secret, so a
//! store dump, `MONITOR` output or a log line that shows keys never holds a
//! working cookie. Rotating the id draws a new secret for the same record,
//! which is one atomic write to one key, on a single Redis server and in
//! Redis Cluster alike.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Length of a cookie value in characters.
pub(crate) const COOKIE_VALUE_LEN: usize = 43;

/// The non-secret half of a session id: names the record in the store.
///
/// It is not a credential (requests need the secret half too), so it can
/// be shown in a session list, logged, and passed to
/// [`SessionAdmin::revoke`](crate::SessionAdmin::revoke). It renders as 22
/// base64url characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId([u8; 16]);

impl RecordId {
    /// A new random record id.
    pub fn generate() -> Self {
        let mut bytes = [0; 16];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Parses the 22-character form [`Display`](fmt::Display) writes.
    /// Anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 22 {
            return None;
        }
        let mut bytes = [0; 16];
        match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
            Ok(16) => Some(Self(bytes)),
            _ => None,
        }
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl RecordId {
    /// Appends the id's text (22 characters) to `out`.
    #[cfg(feature = "redis")]
    pub(crate) fn push_to(&self, out: &mut String) {
        let mut text = [0; 22];
        let written = URL_SAFE_NO_PAD.encode_slice(self.0, &mut text).unwrap_or(0);
        out.push_str(std::str::from_utf8(&text[..written]).unwrap_or_default());
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0; 22];
        let written = URL_SAFE_NO_PAD
            .encode_slice(self.0, &mut out)
            .map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&out[..written]).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({self})")
    }
}

/// SHA-256 of a session secret: what the store keeps to check a cookie.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecretHash(pub [u8; 32]);

impl SecretHash {
    /// Compares in constant time.
    pub fn matches(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

/// A whole session id, as the cookie carries it. Never logged: its `Debug`
/// shows the record id only.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionId {
    pub(crate) record: RecordId,
    secret: [u8; 16],
}

impl SessionId {
    pub(crate) fn generate() -> Self {
        Self::for_record(RecordId::generate())
    }

    /// A new secret for an existing record (id rotation).
    pub(crate) fn for_record(record: RecordId) -> Self {
        let mut secret = [0; 16];
        rand::rng().fill_bytes(&mut secret);
        Self { record, secret }
    }

    /// Parses a cookie value: exactly 43 base64url characters. Anything
    /// else (wrong length, other alphabet, padding) is `None`.
    pub(crate) fn parse(value: &[u8]) -> Option<Self> {
        if value.len() != COOKIE_VALUE_LEN {
            return None;
        }
        let mut bytes = [0; 32];
        match URL_SAFE_NO_PAD.decode_slice(value, &mut bytes) {
            Ok(32) => {}
            _ => return None,
        }
        let (record, secret) = bytes.split_at(16);
        Some(Self {
            record: RecordId(record.try_into().ok()?),
            secret: secret.try_into().ok()?,
        })
    }

    pub(crate) fn secret_hash(&self) -> SecretHash {
        SecretHash(Sha256::digest(self.secret).into())
    }

    /// The cookie value (43 characters).
    pub(crate) fn encode(&self) -> String {
        let mut bytes = [0; 32];
        bytes[..16].copy_from_slice(&self.record.0);
        bytes[16..].copy_from_slice(&self.secret);
        URL_SAFE_NO_PAD.encode(bytes)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionId")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// A short, stable, non-reversible form of a user id for store keys.
#[cfg(feature = "redis")]
pub(crate) fn user_key(user: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(user.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_junk() {
        let id = SessionId::generate();
        let text = id.encode();
        assert_eq!(text.len(), COOKIE_VALUE_LEN);
        assert_eq!(SessionId::parse(text.as_bytes()), Some(id));
        assert_ne!(SessionId::generate().encode(), text);
        for junk in [
            "",
            "short",
            &text[..42],
            &format!("{text}A"),
            &format!("{}=", &text[..42]),
            &format!("{}+", &text[..42]),
            &format!("{}/", &text[..42]),
            &format!("{} ", &text[..42]),
        ] {
            assert_eq!(SessionId::parse(junk.as_bytes()), None, "{junk:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let id = SessionId::generate();
        let shown = format!("{id:?}");
        assert!(!shown.contains(&id.encode()), "{shown}");
        assert!(shown.contains(&id.record.to_string()), "{shown}");
    }

    #[test]
    fn record_ids_round_trip() {
        let record = RecordId::generate();
        let text = record.to_string();
        assert_eq!(text.len(), 22);
        assert_eq!(RecordId::parse(&text), Some(record));
        assert_eq!(RecordId::parse("not-a-record-id"), None);
    }

    #[test]
    fn a_rotated_id_keeps_the_record_and_changes_the_secret() {
        let id = SessionId::generate();
        let rotated = SessionId::for_record(id.record);
        assert_eq!(rotated.record, id.record);
        assert!(!rotated.secret_hash().matches(&id.secret_hash()));
        assert!(id.secret_hash().matches(&id.secret_hash()));
    }
}
