//! Why a response was sent without compression.

use std::fmt;

/// Why the compression layer left a response as it was.
///
/// The reason is stored in the response's extensions, and counted by the
/// `prometheus` metrics under the label [`SkipReason::as_str`].
///
/// Only the reasons marked *negotiated* depend on the request's
/// `Accept-Encoding`; those responses carry `Vary: Accept-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// The client accepts no coding the layer offers (*negotiated*).
    NotAccepted,
    /// A `HEAD` response: headers are set as for `GET`, there is no body
    /// (*negotiated*).
    Head,
    /// 1xx, 204 or 304: no content to compress.
    NoContent,
    /// A partial response (206 or `Content-Range`).
    Range,
    /// The response already has a `Content-Encoding`.
    AlreadyEncoded,
    /// `Cache-Control: no-transform`.
    NoTransform,
    /// No `Content-Type`, or one not on the allow-list.
    ContentType,
    /// `text/event-stream` while event streams are not enabled.
    EventStream,
    /// gRPC (`application/grpc*`): gRPC compresses its own messages.
    Grpc,
    /// The [`compress_when`](crate::CompressionBuilder::compress_when)
    /// predicate returned `false`.
    Predicate,
    /// The body is smaller than the minimum size (*negotiated*).
    TooSmall,
    /// The compressed form was not smaller than the original (*negotiated*).
    NotSmaller,
}

impl SkipReason {
    /// A stable lower-case name, used as a metric label.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotAccepted => "not_accepted",
            Self::Head => "head",
            Self::NoContent => "no_content",
            Self::Range => "range",
            Self::AlreadyEncoded => "already_encoded",
            Self::NoTransform => "no_transform",
            Self::ContentType => "content_type",
            Self::EventStream => "event_stream",
            Self::Grpc => "grpc",
            Self::Predicate => "predicate",
            Self::TooSmall => "too_small",
            Self::NotSmaller => "not_smaller",
        }
    }

    /// Every reason, for pre-registering metric labels.
    pub const ALL: [SkipReason; 12] = [
        Self::NotAccepted,
        Self::Head,
        Self::NoContent,
        Self::Range,
        Self::AlreadyEncoded,
        Self::NoTransform,
        Self::ContentType,
        Self::EventStream,
        Self::Grpc,
        Self::Predicate,
        Self::TooSmall,
        Self::NotSmaller,
    ];
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
