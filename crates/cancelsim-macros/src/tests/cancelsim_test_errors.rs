//! `#[cancelsim::test]`: errors, their hints and where they point.

use super::*;

#[test]
fn cancelsim_test_errors_carry_hints() {
    let cases: &[(TokenStream2, TokenStream2, &str)] = &[
        (quote!(), quote!(fn t() {}), "expected `async fn`"),
        (quote!(), quote!(async fn t(x: u32) {}), "#[cancelsim::test] functions take no arguments"),
        (quote!(), quote!(async fn t<T>() {}), "test functions cannot be generic"),
        (quote!(), quote!(async fn t() where u8: Copy {}), "test functions cannot be generic"),
        (quote!(), quote!(async unsafe fn t() {}), "cannot be `unsafe`"),
        (quote!(), quote!(async extern "C" fn t() {}), "cannot have an `extern` ABI"),
        (quote!(), quote!(#[test] async fn t() {}), "second test attribute"),
        (quote!(), quote!(#[::core::prelude::v1::test] async fn t() {}), "second test attribute"),
        (quote!(), quote!(struct NotAFn;), "can only be applied to an `async fn`"),
        (quote!(foo = 1), quote!(async fn t() {}), "unknown argument `foo`; expected one of: `seeds`, `scheduler`, `cancel`, `timeouts`, `max_runs`, `explore`, `preset`, `crate`"),
        (quote!(flavor = "multi_thread"), quote!(async fn t() {}), "unknown argument `flavor`"),
        (quote!(a::b = 1), quote!(async fn t() {}), "expected an argument name"),
        (quote!(seeds = 1, seeds = 2), quote!(async fn t() {}), "duplicate argument `seeds`"),
        (quote!(seeds), quote!(async fn t() {}), "`seeds` expects a value: `seeds = 16`"),
        (quote!(seeds(3)), quote!(async fn t() {}), "expected `seeds = 16`"),
        (quote!(seeds = 0), quote!(async fn t() {}), "`seeds` must be a positive integer literal"),
        (quote!(seeds = -3), quote!(async fn t() {}), "`seeds` must be a positive integer literal"),
        (quote!(seeds = "16"), quote!(async fn t() {}), "`seeds` must be a positive integer literal"),
        (quote!(seeds = N), quote!(async fn t() {}), "`seeds` must be a positive integer literal"),
        (quote!(seeds = 16u8), quote!(async fn t() {}), "`seeds` is a `u64`"),
        (quote!(seeds = 99999999999999999999999), quote!(async fn t() {}), "`seeds` must be a positive integer literal"),
        (quote!(max_runs = 1.5), quote!(async fn t() {}), "`max_runs` must be a non-negative integer literal"),
        (quote!(max_runs = 5u64), quote!(async fn t() {}), "`max_runs` is a `usize`"),
        (quote!(explore = true), quote!(async fn t() {}), "`explore` must be a non-negative integer literal"),
        (quote!(scheduler = "lifo"), quote!(async fn t() {}), "unknown scheduler \"lifo\"; expected one of: \"fifo\", \"random\", \"pct:N\""),
        (quote!(scheduler = "pct:0"), quote!(async fn t() {}), "N in \"pct:N\" must be a positive integer"),
        (quote!(scheduler = "pct:"), quote!(async fn t() {}), "N in \"pct:N\" must be a positive integer"),
        (quote!(scheduler = "pct:-2"), quote!(async fn t() {}), "N in \"pct:N\" must be a positive integer"),
        (quote!(scheduler = "pct:3x"), quote!(async fn t() {}), "N in \"pct:N\" must be a positive integer"),
        (quote!(scheduler = random), quote!(async fn t() {}), "`scheduler` must be a string literal"),
        (quote!(cancel = "abort"), quote!(async fn t() {}), "unknown cancellation mode \"abort\"; expected one of: \"drop\", \"coop\", \"both\", \"none\""),
        (quote!(preset = "std"), quote!(async fn t() {}), "unknown preset \"std\"; expected one of: \"tokio\", \"cancelsim\""),
        (quote!(timeouts = 1), quote!(async fn t() {}), "`timeouts` must be `true` or `false`"),
        (quote!(timeouts = "true"), quote!(async fn t() {}), "`timeouts` must be `true` or `false`"),
        (quote!(crate = "not a path"), quote!(async fn t() {}), "`crate` must be a path"),
        (quote!(crate = "a::<T>"), quote!(async fn t() {}), "`crate` must be a path"),
        (quote!(crate = cancelsim), quote!(async fn t() {}), "`crate` must be a string literal"),
        (quote!(seeds = 1 scheduler = "fifo"), quote!(async fn t() {}), "arguments are written `name = value`, separated by commas"),
        (quote!(grace = "5"), quote!(async fn t() {}), "`grace` is a duration string with a unit: `ms`, `s` or `m`, e.g. `grace = \"5s\"`"),
        (quote!(grace = 5), quote!(async fn t() {}), "`grace` is a duration string with a unit"),
    ];
    for (attr, item, hint) in cases {
        let out = expand::cancelsim_test(attr.clone(), item.clone());
        assert_error(&out, hint);
    }
}

#[test]
fn erroneous_input_is_emitted_unchanged_next_to_the_error() {
    let item = quote!(
        #[ignore]
        fn t() {
            body()
        }
    );
    let out = expand::cancelsim_test(quote!(), item.clone());
    single_error(&out, "expected `async fn`");
    assert!(out.to_string().starts_with(&item.to_string()), "{out}");
}

#[test]
fn all_problems_are_reported_at_once() {
    let out = expand::cancelsim_test(
        quote!(seeds = 0, bogus = 1, cancel = "x"),
        quote!(
            fn t<T>(a: T) {}
        ),
    );
    let messages: Vec<String> = compile_errors(&out)
        .into_iter()
        .map(|e| e.message)
        .collect();
    for hint in [
        "`seeds` must be a positive",
        "unknown argument `bogus`",
        "unknown cancellation mode",
        "expected `async fn`",
        "cannot be generic",
        "take no arguments",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(hint)),
            "{hint:?} not in {messages:#?}"
        );
    }
}

#[test]
fn errors_point_at_the_offending_token() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // (attr, item, where the error must point, hint)
        (
            "cancel = \"both\", seeds = 0",
            "async fn t() {}",
            "0",
            "positive integer",
        ),
        (
            "seeds = 4, cancel = \"abort\"",
            "async fn t() {}",
            "\"abort\"",
            "cancellation mode",
        ),
        (
            "scheduler = \"pct:0\"",
            "async fn t() {}",
            "\"pct:0\"",
            "pct:N",
        ),
        (
            "timeouts = yes",
            "async fn t() {}",
            "yes",
            "`true` or `false`",
        ),
        (
            "seeds = 1, foo = 2",
            "async fn t() {}",
            "foo",
            "unknown argument `foo`",
        ),
        (
            "seeds = 1, max_runs = 2, seeds = 3",
            "async fn t() {}",
            "seeds = 3",
            "duplicate argument `seeds`",
        ),
        (
            "crate = \"1x\"",
            "async fn t() {}",
            "\"1x\"",
            "`crate` must be a path",
        ),
        ("", "#[ignore]\npub fn t() {}", "fn", "expected `async fn`"),
        (
            "",
            "async fn t(a: u8, b: u8) {}",
            "a: u8",
            "take no arguments",
        ),
        ("", "async fn t<T: Clone>() {}", "<T", "cannot be generic"),
    ];
    for (attr, item, needle, hint) in cases {
        let attr_ts = ts(attr);
        // The item is parsed from its own string: its tokens' columns are
        // relative to that string.
        let item_ts = ts(item);
        let out = expand::cancelsim_test(attr_ts, item_ts);
        let error = single_error(&out, hint);
        let src = if attr.contains(needle) { attr } else { item };
        let expected = position_of(src, needle);
        assert_eq!(
            error.at, expected,
            "error {:?} for `{attr}` / `{item}`",
            error.message
        );
    }
}
