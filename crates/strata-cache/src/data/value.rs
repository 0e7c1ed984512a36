//! A value as the stores hold it: an [`Entry`] (status 200, no headers,
//! the value's tags) whose body is the end of its stale window (ms since
//! the Unix epoch, 8 bytes) and the value in MessagePack (`rmp-serde`).

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Entry;
use crate::clock::now_ms;

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Encodes `value`.
pub(crate) fn encode<V: Serialize>(value: &V) -> Result<Bytes, rmp_serde::encode::Error> {
    rmp_serde::to_vec(value).map(Bytes::from)
}

/// Decodes what [`encode`] wrote.
pub(crate) fn decode<V: DeserializeOwned>(bytes: &[u8]) -> Option<V> {
    rmp_serde::from_slice(bytes).ok()
}

/// The entry of an encoded value, fresh for `ttl`, usable on error for
/// `stale` more.
pub(crate) fn entry(value: &[u8], ttl: Duration, stale: Duration, tags: &[String]) -> Entry {
    let until = now_ms().saturating_add(ms(ttl)).saturating_add(ms(stale));
    let mut body = BytesMut::with_capacity(8 + value.len());
    body.put_u64(until);
    body.put_slice(value);
    Entry::new(
        StatusCode::OK,
        HeaderMap::new(),
        body.freeze(),
        ttl,
        Vec::new(),
        tags.to_vec(),
    )
}

/// A stored value, read back.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) bytes: Bytes,
    pub(crate) fresh: bool,
    /// Share of the freshness lifetime gone (above 1 once stale).
    pub(crate) age: f64,
}

/// Reads an entry [`entry`] made; `None` once past its stale window or not
/// one of ours.
pub(crate) fn read(entry: &Entry) -> Option<Stored> {
    let body = entry.body();
    if body.len() < 8 || entry.status() != StatusCode::OK {
        return None;
    }
    let until = u64::from_be_bytes(body[..8].try_into().ok()?);
    let now = now_ms();
    if now >= until {
        return None;
    }
    let age = entry.age_at(now);
    let lifetime = entry.lifetime().max(1);
    Some(Stored {
        bytes: body.slice(8..),
        fresh: age < lifetime,
        age: age as f64 / lifetime as f64,
    })
}
