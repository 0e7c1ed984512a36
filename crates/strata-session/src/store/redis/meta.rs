//! The `_m` field of a record hash: all of a session's metadata in one
//! version-tagged string, so a load is one small `HGETALL` and the Lua
//! scripts read one field.
//!
//! ```text
//! 1 <secret> <previous> <grace end> <created> <absolute end> <last seen>\n<user><user agent><ip>
//! ```
//!
//! The head (version `1`, then space-separated tokens up to the first
//! newline) is what `update.lua` parses and rewrites: the secret hashes are
//! base64url SHA-256 (43 characters), `-` for no previous secret (grace end
//! `0`); times are Unix milliseconds. The tail holds the free-form strings,
//! each `-` (none) or `<byte length>:<bytes>`; the scripts never parse it,
//! a sign-in replaces it whole.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::super::{Record, SecretHash, StoreError};

/// The version tag this code writes and reads.
const VERSION: &str = "1";

/// The metadata of a record, borrowed from its `_m` text.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Meta<'a> {
    pub(super) secret: SecretHash,
    pub(super) previous: Option<(SecretHash, u64)>,
    pub(super) created_ms: u64,
    pub(super) expires_ms: u64,
    pub(super) seen_ms: u64,
    pub(super) user: Option<&'a str>,
    pub(super) user_agent: Option<&'a str>,
    pub(super) ip: Option<&'a str>,
}

/// The `_m` text of a new record.
pub(super) fn encode(record: &Record) -> String {
    let mut out = String::with_capacity(
        160 + [&record.user, &record.user_agent, &record.ip]
            .iter()
            .map(|s| s.as_ref().map_or(1, |s| s.len() + 4))
            .sum::<usize>(),
    );
    out.push_str(VERSION);
    out.push(' ');
    push_hash(&mut out, &record.secret);
    match &record.previous {
        Some((hash, until)) => {
            out.push(' ');
            push_hash(&mut out, hash);
            let _ = write!(out, " {until}");
        }
        None => out.push_str(" - 0"),
    }
    let _ = writeln!(
        out,
        " {} {} {}",
        record.created_ms, record.expires_ms, record.seen_ms
    );
    push_tail(
        &mut out,
        record.user.as_deref(),
        record.user_agent.as_deref(),
        record.ip.as_deref(),
    );
    out
}

/// The tail a sign-in writes: user, user agent, IP.
pub(super) fn tail(user: &str, user_agent: Option<&str>, ip: Option<&str>) -> String {
    let mut out = String::with_capacity(16 + user.len() + user_agent.map_or(1, str::len));
    push_tail(&mut out, Some(user), user_agent, ip);
    out
}

/// The base64url text of a secret hash (43 characters), as the scripts
/// compare it.
pub(super) fn hash_text(hash: &SecretHash) -> String {
    URL_SAFE_NO_PAD.encode(hash.0)
}

fn push_hash(out: &mut String, hash: &SecretHash) {
    let mut text = [0; 43];
    let written = URL_SAFE_NO_PAD.encode_slice(hash.0, &mut text).unwrap_or(0);
    out.push_str(std::str::from_utf8(&text[..written]).unwrap_or_default());
}

fn push_tail(out: &mut String, user: Option<&str>, user_agent: Option<&str>, ip: Option<&str>) {
    for value in [user, user_agent, ip] {
        match value {
            Some(value) => {
                let _ = write!(out, "{}:{value}", value.len());
            }
            None => out.push('-'),
        }
    }
}

fn malformed(what: &str) -> StoreError {
    StoreError::Malformed(format!("metadata: {what}"))
}

/// Parses an `_m` text.
pub(super) fn parse(text: &str) -> Result<Meta<'_>, StoreError> {
    let (head, mut tail) = text.split_once('\n').ok_or_else(|| malformed("no head"))?;
    let mut tokens = head.split(' ');
    let mut next = |what: &str| tokens.next().ok_or_else(|| malformed(what));
    if next("version")? != VERSION {
        return Err(malformed("unknown version"));
    }
    let secret = parse_hash(next("secret")?)?;
    let previous = next("previous")?;
    let grace_end = number(next("grace end")?)?;
    let previous = match previous {
        "-" => None,
        hash => Some((parse_hash(hash)?, grace_end)),
    };
    let created_ms = number(next("created")?)?;
    let expires_ms = number(next("end")?)?;
    let seen_ms = number(next("last seen")?)?;
    if tokens.next().is_some() {
        return Err(malformed("trailing head"));
    }
    let mut string = || -> Result<Option<&str>, StoreError> {
        if let Some(rest) = tail.strip_prefix('-') {
            tail = rest;
            return Ok(None);
        }
        let (len, rest) = tail.split_once(':').ok_or_else(|| malformed("tail"))?;
        let len = number(len)?;
        let len = usize::try_from(len).map_err(|_| malformed("tail"))?;
        let value = rest.get(..len).ok_or_else(|| malformed("tail"))?;
        tail = &rest[len..];
        Ok(Some(value))
    };
    let user = string()?;
    let user_agent = string()?;
    let ip = string()?;
    if !tail.is_empty() {
        return Err(malformed("trailing tail"));
    }
    Ok(Meta {
        secret,
        previous,
        created_ms,
        expires_ms,
        seen_ms,
        user,
        user_agent,
        ip,
    })
}

fn number(text: &str) -> Result<u64, StoreError> {
    text.parse().map_err(|_| malformed("number"))
}

fn parse_hash(text: &str) -> Result<SecretHash, StoreError> {
    let mut bytes = [0; 32];
    match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
        Ok(32) => Ok(SecretHash(bytes)),
        _ => Err(malformed("secret hash")),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn record(user: Option<&str>, user_agent: Option<&str>, ip: Option<&str>) -> Record {
        Record {
            secret: SecretHash([7; 32]),
            previous: Some((SecretHash([9; 32]), 42)),
            user: user.map(str::to_owned),
            created_ms: 1,
            seen_ms: 2,
            expires_ms: 3,
            user_agent: user_agent.map(str::to_owned),
            ip: ip.map(str::to_owned),
            data: HashMap::new(),
        }
    }

    #[test]
    fn metadata_round_trips_with_any_strings() {
        for (user, user_agent, ip) in [
            (None, None, None),
            (
                Some("alice"),
                Some("Mozilla/5.0 (X11) | 1:2 -"),
                Some("::1"),
            ),
            (Some("1:x\n- é"), None, Some("")),
            (Some(""), Some("-"), None),
        ] {
            let mut record = record(user, user_agent, ip);
            let text = encode(&record);
            let meta = parse(&text).expect("parses");
            assert_eq!(
                (meta.user, meta.user_agent, meta.ip),
                (user, user_agent, ip)
            );
            assert_eq!(meta.secret, record.secret);
            assert_eq!(meta.previous, record.previous);
            assert_eq!((meta.created_ms, meta.seen_ms, meta.expires_ms), (1, 2, 3));
            record.previous = None;
            assert_eq!(parse(&encode(&record)).expect("parses").previous, None);
        }
    }

    #[test]
    fn a_sign_in_tail_replaces_the_stored_one() {
        let text = encode(&record(None, None, None));
        let (head, _) = text.split_once('\n').expect("a head");
        let signed = format!("{head}\n{}", tail("bob", Some("curl"), None));
        let meta = parse(&signed).expect("parses");
        assert_eq!(
            (meta.user, meta.user_agent, meta.ip),
            (Some("bob"), Some("curl"), None)
        );
    }

    #[test]
    fn junk_is_malformed_not_a_panic() {
        let good = encode(&record(Some("alice"), None, None));
        for junk in [
            "",
            "1",
            "2 x - 0 1 3 2\n---",
            &good.replacen("1 ", "2 ", 1),
            &good.replace("5:alice", "9:alice"),
            &good.replace("5:alice", "x:alice"),
            &format!("{good}-"),
            &good.replace(" 3 2\n", " 3\n"),
            &good.replace(" 3 2\n", " 3 2 4\n"),
        ] {
            assert!(
                matches!(parse(junk), Err(StoreError::Malformed(_))),
                "{junk:?}"
            );
        }
    }
}
