//! The two bodies every mode serves, built once at start.

use std::fmt::Write as _;

use bytes::Bytes;

/// `GET /small`: a 33-byte JSON object.
pub const SMALL: &str = r#"{"id":1,"name":"screw","ok":true}"#;

/// The size `GET /large` reaches (it closes the list just past it).
pub const LARGE_BYTES: usize = 16 * 1024;

/// `Cache-Control` of `GET /large`: a shared cache may serve it for a minute.
pub const LARGE_CACHE_CONTROL: &str = "public, max-age=60";

/// `GET /large`: a deterministic, compressible JSON list of a little more
/// than [`LARGE_BYTES`], as a catalogue endpoint would answer.
pub fn large() -> Bytes {
    let mut out = String::with_capacity(LARGE_BYTES + 128);
    out.push('[');
    let mut i = 0_u32;
    while out.len() < LARGE_BYTES {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"id":{i},"name":"item {i}","price_cents":{},"in_stock":{}}}"#,
            100 + i * 7,
            !i.is_multiple_of(3)
        );
        i += 1;
    }
    out.push(']');
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_is_33_bytes_and_large_just_over_16_kib() {
        assert_eq!(SMALL.len(), 33);
        let large = large();
        assert!(large.len() >= LARGE_BYTES && large.len() < LARGE_BYTES + 128);
        assert_eq!(large, super::large(), "deterministic");
    }
}
