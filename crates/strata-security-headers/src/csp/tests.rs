use super::*;
use strata_core::ConfigError;

/// The refusal, as `setting: message`; every refusal is `Invalid`.
fn err(builder: CspBuilder) -> String {
    match builder.build() {
        Err(error @ ConfigError::Invalid { setting, .. }) => format!("{setting}: {error}"),
        other => panic!("expected ConfigError::Invalid, got {other:?}"),
    }
}

fn ok(builder: CspBuilder) -> String {
    builder.build().expect("valid policy").to_string()
}

#[test]
fn presets_are_valid_policies() {
    for preset in [
        CspBuilder::strict(),
        CspBuilder::api(),
        CspBuilder::development(),
    ] {
        let checked = preset
            .clone()
            .build()
            .expect("preset validates")
            .to_string();
        assert_eq!(checked, preset.build_unchecked().to_string());
    }
}

#[test]
fn separators_in_values_cannot_inject_directives() {
    for evil in [
        "'self'; script-src *",
        "https://a.com;script-src",
        "https://a.com,script-src *",
        "https://a.com script-src",
        "https://a.com\tx",
        "https://a.com\r\nx",
        "https://é.com",
        "",
    ] {
        let message = err(CspBuilder::new().default_src([evil]));
        assert!(message.contains("default-src"), "{message}");
    }
    assert!(
        err(CspBuilder::new()
            .default_src([Source::SELF])
            .report_uri("/r; script-src *"))
        .contains("report-uri")
    );
    assert!(
        err(CspBuilder::new()
            .default_src([Source::SELF])
            .report_to("a b"))
        .contains("report-to")
    );
    assert!(err(CspBuilder::new().default_src([Source::host("a.com;b")])).contains("a.com;b"));
}

#[test]
fn keywords_must_be_quoted_and_known() {
    assert!(err(CspBuilder::new().default_src(["self"])).contains("single-quoted"));
    assert!(err(CspBuilder::new().default_src(["unsafe-inline"])).contains("single-quoted"));
    assert!(err(CspBuilder::new().default_src(["'sefl'"])).contains("unknown quoted keyword"));
    assert_eq!(
        ok(CspBuilder::new().default_src(["'SELF'"])),
        "default-src 'self'"
    );
}

#[test]
fn fixed_nonces_are_refused() {
    assert!(err(CspBuilder::new().default_src(["'nonce-abc'"])).contains("Source::NONCE"));
    assert!(
        err(CspBuilder::new()
            .default_src([Source::SELF])
            .img_src([Source::NONCE]))
        .contains("nonces only apply")
    );
}

#[test]
fn default_src_is_required_unless_waived() {
    let result = CspBuilder::new().script_src([Source::SELF]).build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "default_src",
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(
        ok(CspBuilder::new()
            .script_src([Source::SELF])
            .waive_default_src()),
        "script-src 'self'"
    );
}

#[test]
fn unknown_deprecated_and_misused_directives_are_refused() {
    let base = || CspBuilder::new().default_src([Source::SELF]);
    assert!(err(base().directive("scirpt-src", [Source::SELF])).starts_with("directive: "));
    assert!(err(base().directive("scirpt-src", [Source::SELF])).contains("unknown"));
    assert!(
        err(base().directive("block-all-mixed-content", [Source::SELF])).contains("deprecated")
    );
    assert!(err(base().directive("sandbox", [Source::SELF])).contains("sandbox"));
    assert!(err(base().sandbox(["allow-everything"])).starts_with("sandbox: "));
    assert!(err(base().sandbox(["allow-everything"])).contains("allow-everything"));
    assert!(err(base().frame_ancestors([Source::UNSAFE_INLINE])).contains("frame-ancestors"));
    assert!(err(base().object_src([Source::NONE, Source::SELF])).contains("only source"));
    assert!(err(base().img_src(Vec::<Source>::new())).contains("at least one"));
}

#[test]
fn hosts_schemes_and_hashes_are_checked() {
    let base = || CspBuilder::new().default_src([Source::SELF]);
    let good = ok(base().script_src([
        Source::host("https://cdn.example.com/js/"),
        Source::host("*.example.com"),
        Source::host("http://localhost:*"),
        Source::host("example.com:8443"),
        Source::scheme("https"),
        Source::scheme("data:"),
        Source::sha256("RFWPLDbv2BY+rCkDzsE+0fr8ylGr2R2faWMhq4lfEQc="),
        Source::from("*"),
    ]));
    assert_eq!(
        good,
        "default-src 'self'; script-src https://cdn.example.com/js/ *.example.com \
         http://localhost:* example.com:8443 https: data: \
         'sha256-RFWPLDbv2BY+rCkDzsE+0fr8ylGr2R2faWMhq4lfEQc=' *"
    );
    for bad in [
        "https://exa mple.com",
        "https://a..com",
        "ex*ample.com",
        "a.com:99999",
        "a.com:x",
        "1ht:tp://a",
    ] {
        assert!(
            err(base().script_src([bad])).starts_with("script_src: "),
            "{bad}"
        );
    }
    assert!(err(base().script_src(["'sha1-abc='"])).contains("unknown quoted keyword"));
    assert!(err(base().script_src([Source::sha256("not base64!")])).contains("sha256"));
}

#[test]
fn setting_a_directive_again_replaces_it_and_append_extends_it() {
    let policy = ok(CspBuilder::api()
        .default_src([Source::SELF])
        .append("script-src", [Source::SELF])
        .append("script-src", ["https://cdn.example.com"])
        .remove("frame-ancestors"));
    assert_eq!(
        policy,
        "default-src 'self'; script-src 'self' https://cdn.example.com"
    );
}

#[test]
fn missing_nonce_leaves_nonce_sources_out() {
    let policy = CspBuilder::strict().build().expect("valid");
    let value = policy.header_value(None);
    let text = value.to_str().expect("ASCII");
    assert!(
        text.starts_with(
            "default-src 'self'; script-src 'strict-dynamic'; style-src 'self'; img-src"
        ),
        "{text}"
    );
    assert!(!text.contains("nonce"), "{text}");
}
