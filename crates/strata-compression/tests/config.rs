//! Configuration: every check happens in `build()` and names its setting;
//! the futures panic when polled after completion.

mod common;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use strata_compression::{
    CompressionBuilder, CompressionLayer, ContentTypes, DecompressionBody, Encoding,
    RequestDecompressionBuilder, RequestDecompressionLayer,
};
use strata_core::ConfigError;
use tower::{Layer, Service};

/// A change to a builder.
type Set<B> = fn(B) -> B;

#[test]
fn levels_out_of_range_name_their_setting() {
    let cases: [(Set<CompressionBuilder>, Encoding, &str); 4] = [
        (|b| b.br_level(12), Encoding::Br, "br_level"),
        (|b| b.zstd_level(23), Encoding::Zstd, "zstd_level"),
        (|b| b.gzip_level(0), Encoding::Gzip, "gzip_level"),
        (|b| b.deflate_level(10), Encoding::Deflate, "deflate_level"),
    ];
    for (set, encoding, name) in cases {
        let result = set(CompressionLayer::builder()).build();
        if encoding.is_compiled() {
            assert!(
                matches!(&result, Err(ConfigError::Invalid { setting, .. }) if *setting == name),
                "{name}: {result:?}"
            );
        } else {
            assert!(
                matches!(&result, Err(ConfigError::FeatureDisabled { setting, .. }) if *setting == name),
                "{name}: {result:?}"
            );
        }
    }
}

#[test]
fn a_coding_without_its_feature_is_refused_not_ignored() {
    let on: [(Set<CompressionBuilder>, Encoding); 4] = [
        (|b| b.br(true), Encoding::Br),
        (|b| b.zstd(true), Encoding::Zstd),
        (|b| b.gzip(true), Encoding::Gzip),
        (|b| b.deflate(true), Encoding::Deflate),
    ];
    for (set, encoding) in on {
        let result = set(CompressionLayer::builder()).build();
        let name = encoding.as_str();
        if encoding.is_compiled() {
            if let Err(error) = result {
                panic!("{name}: {error:?}");
            }
        } else {
            assert!(
                matches!(&result, Err(ConfigError::FeatureDisabled { setting, feature })
                    if *setting == name && *feature == name),
                "{name}: {result:?}"
            );
        }
        // Turning a coding off never needs its feature.
        let off = CompressionLayer::builder()
            .no_br()
            .no_zstd()
            .no_gzip()
            .no_deflate();
        off.build().expect("turning every coding off builds");
    }
}

#[test]
fn decoding_without_its_feature_is_refused_not_ignored() {
    let on: [(Set<RequestDecompressionBuilder>, Encoding); 4] = [
        (|b| b.br(true), Encoding::Br),
        (|b| b.zstd(true), Encoding::Zstd),
        (|b| b.gzip(true), Encoding::Gzip),
        (|b| b.deflate(true), Encoding::Deflate),
    ];
    for (set, encoding) in on {
        let result = set(RequestDecompressionLayer::builder()).build();
        let name = encoding.as_str();
        if encoding.is_compiled() {
            if let Err(error) = result {
                panic!("{name}: {error:?}");
            }
        } else {
            assert!(
                matches!(&result, Err(ConfigError::FeatureDisabled { setting, feature })
                    if *setting == name && *feature == name),
                "{name}: {result:?}"
            );
        }
    }
}

#[test]
fn sizes_preferences_and_types_are_checked_at_build() {
    let result = CompressionLayer::builder()
        .buffer_size(10)
        .min_size(100)
        .build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "buffer_size",
                ..
            })
        ),
        "{result:?}"
    );
    let result = CompressionLayer::builder()
        .prefer([Encoding::Gzip, Encoding::Gzip])
        .build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "prefer",
                ..
            })
        ),
        "{result:?}"
    );
    // A bad entry does not stop the chain; build() reports it.
    let types = ContentTypes::empty().allow("json").allow("text/plain");
    let result = CompressionLayer::builder().content_types(types).build();
    assert!(
        matches!(&result, Err(ConfigError::Invalid { setting: "content_types", reason })
            if reason.contains("`json`")),
        "{result:?}"
    );
}

#[cfg(feature = "prometheus")]
#[test]
fn metrics_register_all_or_nothing() {
    use strata_compression::CompressionMetrics;

    let registry = prometheus::Registry::new();
    let first = CompressionMetrics::register(&registry).expect("registers");
    assert_eq!(registry.gather().len(), 3);
    let again = CompressionMetrics::register(&registry);
    assert!(matches!(again, Err(ConfigError::Registry(_))), "{again:?}");
    assert_eq!(registry.gather().len(), 3, "only the first set stays");
    drop(first);

    // A clash on the last collector takes the earlier ones out again: once
    // the clashing collector is gone, a new registration succeeds.
    let registry = prometheus::Registry::new();
    // The same descriptor (prometheus keeps a name's help and labels after
    // unregistering it).
    let taken = prometheus::IntCounterVec::new(
        prometheus::Opts::new(
            "strata_compression_skipped_total",
            "Responses sent without compression, by reason.",
        ),
        &["reason"],
    )
    .expect("counter");
    taken.with_label_values(&["head"]).inc();
    registry
        .register(Box::new(taken.clone()))
        .expect("registers");
    let result = CompressionMetrics::register(&registry);
    assert!(
        matches!(result, Err(ConfigError::Registry(_))),
        "{result:?}"
    );
    let names: Vec<String> = registry
        .gather()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    assert_eq!(names, ["strata_compression_skipped_total"]);
    registry.unregister(Box::new(taken)).expect("unregisters");
    let result = CompressionMetrics::register(&registry);
    let _ = result.expect("valid");
    assert_eq!(registry.gather().len(), 3);
}

fn poll_twice<F: Future>(future: F) {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(future.as_mut().poll(&mut cx), Poll::Ready(_)));
    let _ = future.as_mut().poll(&mut cx);
}

#[test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
fn compression_future_panics_when_polled_after_completion() {
    let mut service = CompressionLayer::new().layer(tower::service_fn(|_: Request<()>| async {
        Ok::<_, std::convert::Infallible>(common::response("text/plain", common::json(64)))
    }));
    poll_twice(service.call(Request::new(())));
}

#[test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
fn decompression_future_panics_when_polled_after_completion() {
    let mut service = RequestDecompressionLayer::new().layer(tower::service_fn(
        |_: Request<DecompressionBody<Full<Bytes>>>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(Full::<Bytes>::default()))
        },
    ));
    poll_twice(service.call(Request::new(Full::<Bytes>::default())));
}

#[test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
fn a_rejected_decompression_future_panics_when_polled_again() {
    let mut service = RequestDecompressionLayer::new().layer(tower::service_fn(
        |_: Request<DecompressionBody<Full<Bytes>>>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(Full::<Bytes>::default()))
        },
    ));
    let request = Request::builder()
        .header("content-encoding", "lzma")
        .body(Full::<Bytes>::default())
        .expect("request");
    poll_twice(service.call(request));
}
