//! A stored response and its raw-bytes form.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::StoreError;

const MAGIC: &[u8; 4] = b"SCE1";

/// A response as the cache stores it: status, headers (hop-by-hop fields
/// and the tag header removed), body bytes, and the times the freshness
/// and age rules need.
///
/// Stores keep entries as the bytes of [`encode`](Self::encode): a short
/// binary head and the body as it is.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// When the response arrived, ms since the Unix epoch.
    pub(crate) response_time: u64,
    /// `corrected_initial_age` of RFC 9111 §4.2.3, in ms.
    pub(crate) initial_age: u64,
    /// Freshness lifetime, in ms.
    pub(crate) lifetime: u64,
    /// The response's `Vary` field names, lowercase, sorted.
    pub(crate) vary: Vec<HeaderName>,
    pub(crate) tags: Vec<String>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("status", &self.status)
            .field("headers", &self.headers.len())
            .field("body", &self.body.len())
            .field("response_time", &self.response_time)
            .field("lifetime", &self.lifetime)
            .field("vary", &self.vary)
            .field("tags", &self.tags)
            .finish()
    }
}

impl Entry {
    /// An entry received now, with age 0, fresh for `lifetime`, varying on
    /// `vary` (field names) and tagged `tags`: for implementing and testing
    /// a [`Store`](crate::Store). The layer makes its own from responses.
    pub fn new(
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        lifetime: std::time::Duration,
        vary: Vec<HeaderName>,
        tags: Vec<String>,
    ) -> Self {
        Self {
            status,
            headers,
            body,
            response_time: crate::clock::now_ms(),
            initial_age: 0,
            lifetime: u64::try_from(lifetime.as_millis()).unwrap_or(u64::MAX),
            vary,
            tags,
        }
    }

    /// The stored status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stored headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The stored body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The tags the response carried.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// The `Vary` field names of the response (lowercase, sorted).
    pub fn vary(&self) -> &[HeaderName] {
        &self.vary
    }

    /// When the response arrived, in ms since the Unix epoch.
    pub fn response_time(&self) -> u64 {
        self.response_time
    }

    /// Its age in ms at `now` (ms since the Unix epoch), RFC 9111 §4.2.3.
    pub fn age_at(&self, now: u64) -> u64 {
        self.initial_age + now.saturating_sub(self.response_time)
    }

    /// Its freshness lifetime in ms.
    pub fn lifetime(&self) -> u64 {
        self.lifetime
    }

    /// Roughly how many bytes it takes in memory.
    pub fn weight(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 32)
            .sum();
        self.body.len() + headers + 128
    }

    /// The entry as bytes: a binary head, then the body unchanged.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.weight());
        out.put_slice(MAGIC);
        out.put_u16(self.status.as_u16());
        out.put_u64(self.response_time);
        out.put_u64(self.initial_age);
        out.put_u64(self.lifetime);
        put_list(&mut out, self.vary.iter().map(|n| n.as_str().as_bytes()));
        put_list(&mut out, self.tags.iter().map(|t| t.as_bytes()));
        out.put_u32(u32::try_from(self.headers.len()).unwrap_or(u32::MAX));
        for (name, value) in &self.headers {
            put_bytes(&mut out, name.as_str().as_bytes());
            put_bytes(&mut out, value.as_bytes());
        }
        out.put_slice(&self.body);
        out.freeze()
    }

    /// Reads what [`encode`](Self::encode) wrote; anything else is
    /// [`StoreError::Corrupt`].
    pub fn decode(mut bytes: Bytes) -> Result<Self, StoreError> {
        let corrupt = || StoreError::Corrupt;
        if bytes.len() < 30 || &bytes[..4] != MAGIC {
            return Err(corrupt());
        }
        bytes.advance(4);
        let status = StatusCode::from_u16(bytes.get_u16()).map_err(|_| corrupt())?;
        let (response_time, initial_age, lifetime) =
            (bytes.get_u64(), bytes.get_u64(), bytes.get_u64());
        let vary = get_list(&mut bytes)?
            .into_iter()
            .map(|n| HeaderName::from_bytes(&n).map_err(|_| corrupt()))
            .collect::<Result<_, _>>()?;
        let tags = get_list(&mut bytes)?
            .into_iter()
            .map(|t| String::from_utf8(t.to_vec()).map_err(|_| corrupt()))
            .collect::<Result<_, _>>()?;
        if bytes.remaining() < 4 {
            return Err(corrupt());
        }
        let count = bytes.get_u32();
        let mut headers = HeaderMap::new();
        for _ in 0..count {
            let name = HeaderName::from_bytes(&get_bytes(&mut bytes)?).map_err(|_| corrupt())?;
            let value =
                HeaderValue::from_maybe_shared(get_bytes(&mut bytes)?).map_err(|_| corrupt())?;
            headers.append(name, value);
        }
        Ok(Self {
            status,
            headers,
            body: bytes,
            response_time,
            initial_age,
            lifetime,
            vary,
            tags,
        })
    }
}

fn put_bytes(out: &mut BytesMut, bytes: &[u8]) {
    out.put_u32(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
    out.put_slice(bytes);
}

fn put_list<'a>(out: &mut BytesMut, items: impl ExactSizeIterator<Item = &'a [u8]>) {
    out.put_u32(u32::try_from(items.len()).unwrap_or(u32::MAX));
    for item in items {
        put_bytes(out, item);
    }
}

fn get_bytes(bytes: &mut Bytes) -> Result<Bytes, StoreError> {
    if bytes.remaining() < 4 {
        return Err(StoreError::Corrupt);
    }
    let len = bytes.get_u32() as usize;
    if bytes.remaining() < len {
        return Err(StoreError::Corrupt);
    }
    Ok(bytes.split_to(len))
}

fn get_list(bytes: &mut Bytes) -> Result<Vec<Bytes>, StoreError> {
    if bytes.remaining() < 4 {
        return Err(StoreError::Corrupt);
    }
    let count = bytes.get_u32();
    (0..count).map(|_| get_bytes(bytes)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_as_raw_bytes() {
        let mut headers = HeaderMap::new();
        headers.append("etag", HeaderValue::from_static("\"v1\""));
        headers.append("x-two", HeaderValue::from_static("a"));
        headers.append("x-two", HeaderValue::from_static("b"));
        let entry = Entry {
            status: StatusCode::OK,
            headers,
            body: Bytes::from_static(b"hello \x00 world"),
            response_time: 1_700_000_000_000,
            initial_age: 1500,
            lifetime: 60_000,
            vary: vec![HeaderName::from_static("accept-encoding")],
            tags: vec!["item:1".into(), "items".into()],
        };
        let bytes = entry.encode();
        assert!(
            bytes.ends_with(b"hello \x00 world"),
            "the body is stored as it is"
        );
        assert_eq!(Entry::decode(bytes).expect("decodes"), entry);
    }

    #[test]
    fn junk_is_corrupt_not_a_panic() {
        for junk in [
            &b""[..],
            b"SCE1",
            b"nope nope nope nope nope nope nope",
            &[0xff; 64],
        ] {
            assert!(matches!(
                Entry::decode(Bytes::copy_from_slice(junk)),
                Err(StoreError::Corrupt)
            ));
        }
        let mut truncated = Entry {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            response_time: 0,
            initial_age: 0,
            lifetime: 0,
            vary: vec![],
            tags: vec!["t".into()],
        }
        .encode();
        truncated.truncate(truncated.len() - 3);
        assert!(matches!(Entry::decode(truncated), Err(StoreError::Corrupt)));
    }
}
