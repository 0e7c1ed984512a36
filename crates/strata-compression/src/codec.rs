//! Content codings, their levels, and the synchronous encoders and decoders
//! both layers drive frame by frame.

use std::fmt;
use std::io;

#[cfg(any(
    feature = "br",
    feature = "zstd",
    feature = "gzip",
    feature = "deflate"
))]
use async_compression::codecs::{Decode, Encode};
#[cfg(any(
    feature = "br",
    feature = "zstd",
    feature = "gzip",
    feature = "deflate"
))]
use async_compression::core::util::PartialBuffer;

/// A content coding this crate can produce and decode.
///
/// Codings whose feature is off still exist as values, so configuration
/// compiles the same way under every feature set; they are never negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Encoding {
    /// Brotli, `br` (feature `br`).
    Br,
    /// Zstandard, `zstd` (feature `zstd`).
    Zstd,
    /// gzip, `gzip` (feature `gzip`).
    Gzip,
    /// deflate, `deflate`: the zlib format, as HTTP defines it (feature `deflate`).
    Deflate,
}

impl Encoding {
    /// Every coding, in the default server preference order.
    pub const ALL: [Encoding; 4] = [Self::Br, Self::Zstd, Self::Gzip, Self::Deflate];

    /// The token used in `Content-Encoding` and `Accept-Encoding`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Br => "br",
            Self::Zstd => "zstd",
            Self::Gzip => "gzip",
            Self::Deflate => "deflate",
        }
    }

    /// Whether support for this coding is compiled in.
    pub const fn is_compiled(self) -> bool {
        match self {
            Self::Br => cfg!(feature = "br"),
            Self::Zstd => cfg!(feature = "zstd"),
            Self::Gzip => cfg!(feature = "gzip"),
            Self::Deflate => cfg!(feature = "deflate"),
        }
    }

    /// The coding named by an HTTP token, ignoring ASCII case. `x-gzip` is
    /// gzip (RFC 9110, section 8.4.1.3).
    pub fn from_token(token: &str) -> Option<Self> {
        [
            ("br", Self::Br),
            ("zstd", Self::Zstd),
            ("gzip", Self::Gzip),
            ("x-gzip", Self::Gzip),
            ("deflate", Self::Deflate),
        ]
        .into_iter()
        .find_map(|(name, encoding)| token.eq_ignore_ascii_case(name).then_some(encoding))
    }

    /// The levels this coding accepts, inclusive.
    pub const fn level_range(self) -> (i32, i32) {
        match self {
            Self::Br => (0, 11),
            Self::Zstd => (1, 22),
            Self::Gzip | Self::Deflate => (1, 9),
        }
    }

    /// The default level, chosen from the measurements in `docs/compression.md`.
    pub const fn default_level(self) -> i32 {
        match self {
            Self::Br => 4,
            Self::Zstd => 3,
            Self::Gzip | Self::Deflate => 4,
        }
    }

    pub(crate) const fn index(self) -> usize {
        match self {
            Self::Br => 0,
            Self::Zstd => 1,
            Self::Gzip => 2,
            Self::Deflate => 3,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A growable output buffer that is zeroed once and then reused, so codecs
/// write into initialised memory without unsafe code.
#[derive(Debug, Default)]
pub(crate) struct OutBuf {
    buf: Vec<u8>,
    len: usize,
}

impl OutBuf {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: vec![0; capacity.max(64)],
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Makes room for at least `extra` more bytes.
    fn reserve(&mut self, extra: usize) {
        if self.buf.len() - self.len < extra {
            let target = (self.len + extra).max(self.buf.len() * 2);
            self.buf.resize(target, 0);
        }
    }

    /// The written bytes as an owned buffer, keeping the allocation.
    pub(crate) fn take_copy(&mut self) -> bytes::Bytes {
        let out = bytes::Bytes::copy_from_slice(&self.buf[..self.len]);
        self.len = 0;
        out
    }

    /// The written bytes, giving the allocation away.
    pub(crate) fn into_bytes(mut self) -> bytes::Bytes {
        self.buf.truncate(self.len);
        bytes::Bytes::from(self.buf)
    }
}

/// One streaming encoder of any compiled coding.
pub(crate) enum Encoder {
    #[cfg(feature = "br")]
    Br(Box<async_compression::codecs::BrotliEncoder>),
    #[cfg(feature = "zstd")]
    Zstd(async_compression::codecs::ZstdEncoder),
    #[cfg(feature = "gzip")]
    Gzip(async_compression::codecs::GzipEncoder),
    #[cfg(feature = "deflate")]
    Deflate(async_compression::codecs::ZlibEncoder),
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Encoder")
    }
}

macro_rules! with_codec {
    ($self:expr, $codec:ident => $body:expr) => {
        match $self {
            #[cfg(feature = "br")]
            Self::Br($codec) => $body,
            #[cfg(feature = "zstd")]
            Self::Zstd($codec) => $body,
            #[cfg(feature = "gzip")]
            Self::Gzip($codec) => $body,
            #[cfg(feature = "deflate")]
            Self::Deflate($codec) => $body,
        }
    };
}

impl Encoder {
    /// An encoder, or `None` when the coding is not compiled in. `size_hint`
    /// is the input length when known.
    #[allow(unused_variables)]
    pub(crate) fn new(encoding: Encoding, level: i32, size_hint: Option<u64>) -> Option<Self> {
        #[cfg(any(
            feature = "br",
            feature = "zstd",
            feature = "gzip",
            feature = "deflate"
        ))]
        #[allow(unused_imports)]
        use async_compression::Level;
        match encoding {
            #[cfg(feature = "br")]
            Encoding::Br => {
                let mut params = async_compression::brotli::EncoderParams::default()
                    .quality(Level::Precise(level));
                if let Some(hint) = size_hint.and_then(|hint| usize::try_from(hint).ok()) {
                    params = params.size_hint(hint);
                }
                Some(Self::Br(Box::new(
                    async_compression::codecs::BrotliEncoder::new(params),
                )))
            }
            #[cfg(feature = "zstd")]
            Encoding::Zstd => Some(Self::Zstd(async_compression::codecs::ZstdEncoder::new(
                level,
            ))),
            #[cfg(feature = "gzip")]
            Encoding::Gzip => Some(Self::Gzip(async_compression::codecs::GzipEncoder::new(
                Level::Precise(level).into(),
            ))),
            #[cfg(feature = "deflate")]
            Encoding::Deflate => Some(Self::Deflate(async_compression::codecs::ZlibEncoder::new(
                Level::Precise(level).into(),
            ))),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

#[cfg(any(
    feature = "br",
    feature = "zstd",
    feature = "gzip",
    feature = "deflate"
))]
impl Encoder {
    /// Compresses all of `input`, appending what the codec emits to `out`.
    pub(crate) fn encode(&mut self, input: &[u8], out: &mut OutBuf) -> io::Result<()> {
        let mut input = PartialBuffer::new(input);
        loop {
            out.reserve(input.unwritten().len() / 4 + 256);
            let mut output = PartialBuffer::new(&mut out.buf[out.len..]);
            with_codec!(self, codec => codec.encode(&mut input, &mut output))?;
            out.len += output.written_len();
            if input.unwritten().is_empty() {
                return Ok(());
            }
        }
    }

    /// Emits everything given so far, so the peer can decode it now.
    pub(crate) fn flush(&mut self, out: &mut OutBuf) -> io::Result<()> {
        loop {
            out.reserve(256);
            let mut output = PartialBuffer::new(&mut out.buf[out.len..]);
            let done = with_codec!(self, codec => codec.flush(&mut output))?;
            out.len += output.written_len();
            if done {
                return Ok(());
            }
        }
    }

    /// Ends the stream.
    pub(crate) fn finish(&mut self, out: &mut OutBuf) -> io::Result<()> {
        loop {
            out.reserve(256);
            let mut output = PartialBuffer::new(&mut out.buf[out.len..]);
            let done = with_codec!(self, codec => codec.finish(&mut output))?;
            out.len += output.written_len();
            if done {
                return Ok(());
            }
        }
    }
}

/// One streaming decoder of any compiled coding.
pub(crate) enum Decoder {
    #[cfg(feature = "br")]
    Br(Box<async_compression::codecs::BrotliDecoder>),
    #[cfg(feature = "zstd")]
    Zstd(async_compression::codecs::ZstdDecoder),
    #[cfg(feature = "gzip")]
    Gzip(async_compression::codecs::GzipDecoder),
    #[cfg(feature = "deflate")]
    Deflate(async_compression::codecs::ZlibDecoder),
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Decoder")
    }
}

/// What one decoding step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    /// Input bytes consumed.
    pub(crate) consumed: usize,
    /// The current stream (member) ended.
    pub(crate) ended: bool,
}

impl Decoder {
    /// A decoder, or `None` when the coding is not compiled in.
    pub(crate) fn new(encoding: Encoding) -> Option<Self> {
        match encoding {
            #[cfg(feature = "br")]
            Encoding::Br => Some(Self::Br(Box::default())),
            #[cfg(feature = "zstd")]
            Encoding::Zstd => Some(Self::Zstd(async_compression::codecs::ZstdDecoder::new())),
            #[cfg(feature = "gzip")]
            Encoding::Gzip => Some(Self::Gzip(async_compression::codecs::GzipDecoder::new())),
            #[cfg(feature = "deflate")]
            Encoding::Deflate => Some(Self::Deflate(async_compression::codecs::ZlibDecoder::new())),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

#[cfg(any(
    feature = "br",
    feature = "zstd",
    feature = "gzip",
    feature = "deflate"
))]
impl Decoder {
    /// Decodes from `input` into the free space of `out`, at most `out`'s
    /// remaining capacity: the caller bounds memory by the buffer it passes.
    pub(crate) fn decode(&mut self, input: &[u8], out: &mut [u8]) -> io::Result<(Step, usize)> {
        let mut input = PartialBuffer::new(input);
        let mut output = PartialBuffer::new(out);
        let ended = with_codec!(self, codec => codec.decode(&mut input, &mut output))?;
        Ok((
            Step {
                consumed: input.written_len(),
                ended,
            },
            output.written_len(),
        ))
    }

    /// Checks that the stream is complete at the end of the input, writing
    /// any last bytes into `out`. Returns whether it is complete and how many
    /// bytes were written.
    pub(crate) fn finish(&mut self, out: &mut [u8]) -> io::Result<(bool, usize)> {
        let mut output = PartialBuffer::new(out);
        let done = with_codec!(self, codec => codec.finish(&mut output))?;
        Ok((done, output.written_len()))
    }

    /// Prepares for another member (concatenated gzip members, zstd frames).
    pub(crate) fn reinit(&mut self) -> io::Result<()> {
        with_codec!(self, codec => codec.reinit())
    }
}

/// Without any coding compiled in, no encoder or decoder value can exist.
#[cfg(not(any(
    feature = "br",
    feature = "zstd",
    feature = "gzip",
    feature = "deflate"
)))]
mod none {
    use super::{Decoder, Encoder, OutBuf, Step};
    use std::io;

    impl Encoder {
        pub(crate) fn encode(&mut self, _: &[u8], _: &mut OutBuf) -> io::Result<()> {
            match *self {}
        }
        pub(crate) fn flush(&mut self, _: &mut OutBuf) -> io::Result<()> {
            match *self {}
        }
        pub(crate) fn finish(&mut self, _: &mut OutBuf) -> io::Result<()> {
            match *self {}
        }
    }

    impl Decoder {
        pub(crate) fn decode(&mut self, _: &[u8], _: &mut [u8]) -> io::Result<(Step, usize)> {
            match *self {}
        }
        pub(crate) fn finish(&mut self, _: &mut [u8]) -> io::Result<(bool, usize)> {
            match *self {}
        }
        pub(crate) fn reinit(&mut self) -> io::Result<()> {
            match *self {}
        }
    }
}
