//! The `{id}` of `/api/items/{id}`, in canonical form only.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The item id of the path: `Some` only for the canonical decimal form of a
/// `u32` (ASCII digits, no sign, no leading zero, no percent-encoding), so
/// `/api/items/1` has no aliases such as `/+1`, `/01` or `/%31` (which would
/// be cached and rate limited apart). `None` answers 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ItemId(pub(crate) Option<u32>);

impl<S: Send + Sync> FromRequestParts<S> for ItemId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // The id is the last segment; axum's `Path` would percent-decode it.
        let raw = parts.uri.path().rsplit('/').next().unwrap_or_default();
        Ok(Self(canonical_id(raw)))
    }
}

/// `raw` (as it appears in the path, still percent-encoded) as an id.
pub(crate) fn canonical_id(raw: &str) -> Option<u32> {
    let digits = raw.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = raw.len() > 1 && raw.starts_with('0');
    if raw.is_empty() || !digits || leading_zero {
        return None;
    }
    raw.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::canonical_id;

    #[test]
    fn only_canonical_decimal_ids() {
        assert_eq!(canonical_id("1"), Some(1));
        assert_eq!(canonical_id("0"), Some(0));
        assert_eq!(canonical_id("4294967295"), Some(u32::MAX));
        for alias in [
            "",
            "+1",
            "-1",
            "01",
            "00",
            "%31",
            "1%00",
            " 1",
            "1 ",
            "4294967296",
            "1e3",
            "abc",
        ] {
            assert_eq!(canonical_id(alias), None, "{alias:?}");
        }
    }
}
