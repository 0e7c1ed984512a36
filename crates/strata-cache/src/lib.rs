#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod conditional;
mod directives;
mod encoding;
mod entry;
mod error;
mod key;
mod policy;
mod status;

pub use self::entry::Entry;
pub use self::error::StoreError;
pub use self::key::CacheKey;
