//! Unit tests of the expansions, run without a compiler: inputs are built
//! with `quote!` (or parsed from strings when spans matter) and outputs are
//! compared token by token with the expected expansion, or searched for
//! `compile_error!`s.

use proc_macro2::{Delimiter, Group, LineColumn, TokenStream as TokenStream2, TokenTree};
use quote::{quote, ToTokens};
use syn::{Item, ItemFn, LitStr, ReturnType, Stmt};

use crate::expand;

type Expander = fn(TokenStream2, TokenStream2) -> TokenStream2;

const ALL: [(&str, Expander); 3] = [
    ("cancelsim_test", expand::cancelsim_test),
    ("tokio_test", expand::tokio_test),
    ("tokio_main", expand::tokio_main),
];

/// Parses a string as tokens (with real line/column spans).
fn ts(s: &str) -> TokenStream2 {
    s.parse().expect("test input must tokenize")
}

/// A `compile_error!` found in an expansion: its message and where it points.
#[derive(Debug)]
struct CompileError {
    message: String,
    at: LineColumn,
}

/// All `compile_error! { "..." }` invocations in `out`, in order.
fn compile_errors(out: &TokenStream2) -> Vec<CompileError> {
    let tokens: Vec<TokenTree> = out.clone().into_iter().collect();
    let mut found = Vec::new();
    for (i, tt) in tokens.iter().enumerate() {
        if let TokenTree::Group(g) = tt {
            found.extend(compile_errors(&g.stream()));
        }
        let TokenTree::Ident(ident) = tt else {
            continue;
        };
        if ident != "compile_error" {
            continue;
        }
        let (Some(TokenTree::Punct(bang)), Some(TokenTree::Group(args))) =
            (tokens.get(i + 1), tokens.get(i + 2))
        else {
            continue;
        };
        assert_eq!(bang.as_char(), '!');
        let message: LitStr = syn::parse2(args.stream()).expect("compile_error! takes a string");
        found.push(CompileError {
            message: message.value(),
            at: ident.span().start(),
        });
    }
    found
}

/// The single error of `out`, asserting that it contains `hint`.
#[track_caller]
fn single_error(out: &TokenStream2, hint: &str) -> CompileError {
    let mut errors = compile_errors(out);
    assert_eq!(
        errors.len(),
        1,
        "expected exactly one error, got {errors:#?}\nin: {out}"
    );
    let error = errors.remove(0);
    assert!(
        error.message.contains(hint),
        "error {:?} does not contain {hint:?}",
        error.message
    );
    error
}

/// Asserts that `out` has an error containing `hint` and still contains the
/// user's function (so the error is the only diagnostic).
#[track_caller]
fn assert_error(out: &TokenStream2, hint: &str) {
    let errors = compile_errors(out);
    assert!(
        errors.iter().any(|e| e.message.contains(hint)),
        "no error containing {hint:?} in {errors:#?}\nin: {out}"
    );
    assert!(
        !out.to_string().contains("__cancelsim"),
        "an erroneous input must not be expanded: {out}"
    );
}

/// `tokens` reprinted through syn, so that token-spacing differences (a
/// joint `>>` versus two `>`) do not matter when comparing expansions.
#[track_caller]
fn normalised(tokens: &TokenStream2) -> String {
    syn::parse2::<syn::File>(tokens.clone())
        .unwrap_or_else(|e| panic!("not a list of items ({e}): {tokens}"))
        .to_token_stream()
        .to_string()
}

/// The expansion parsed back as a function.
#[track_caller]
fn parse_fn(out: &TokenStream2) -> ItemFn {
    assert!(compile_errors(out).is_empty(), "unexpected errors in {out}");
    syn::parse2(out.clone()).unwrap_or_else(|e| panic!("expansion is not a fn ({e}): {out}"))
}

/// The inner `async fn` item declared in the expansion's body.
#[track_caller]
fn inner_fn(outer: &ItemFn) -> &ItemFn {
    match outer.block.stmts.first() {
        Some(Stmt::Item(Item::Fn(f))) => f,
        other => panic!(
            "first statement is not the inner fn: {:?}",
            other.map(|s| s.to_token_stream().to_string())
        ),
    }
}

/// The position of the first occurrence of `needle` in `src`: 1-based line,
/// 0-based column, as proc-macro2 reports span starts.
fn position_of(src: &str, needle: &str) -> LineColumn {
    let offset = src.find(needle).expect("needle in source");
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1);
    LineColumn { line, column }
}

// ---------------------------------------------------------------------------
// #[cancelsim::test]: expansion
// ---------------------------------------------------------------------------

#[test]
fn cancelsim_test_expands_to_the_documented_shape() {
    let out = expand::cancelsim_test(
        quote!(
            seeds = 16,
            scheduler = "random",
            cancel = "both",
            timeouts = true,
            max_runs = 500,
            explore = 32,
            preset = "tokio"
        ),
        quote! {
            /// Docs.
            #[ignore]
            pub async fn name() -> Result<(), Error> { step().await?; Ok(()) }
        },
    );
    let expected = quote! {
        #[::core::prelude::v1::test]
        #[doc = r" Docs."]
        #[ignore]
        pub fn name() {
            async fn __cancelsim_body() -> Result<(), Error> { step().await?; Ok(()) }
            #[allow(clippy::needless_update)]
            ::cancelsim::__private::test(
                ::core::module_path!(),
                "name",
                ::cancelsim::__private::TestArgs {
                    seeds: ::core::option::Option::Some(16u64),
                    scheduler: ::core::option::Option::Some("random"),
                    cancel: ::core::option::Option::Some("both"),
                    timeouts: ::core::option::Option::Some(true),
                    max_runs: ::core::option::Option::Some(500usize),
                    explore: ::core::option::Option::Some(32u64),
                    preset: ::core::option::Option::Some("tokio"),
                    body_end: ::core::option::Option::Some(::cancelsim::__private::here()),
                    ..::cancelsim::__private::TestArgs::DEFAULT
                },
                __cancelsim_body,
            );
        }
    };
    assert_eq!(normalised(&out), normalised(&expected));
    parse_fn(&out);
}

#[test]
fn cancelsim_test_without_arguments_fills_none() {
    let out = expand::cancelsim_test(
        quote!(),
        quote!(
            async fn t() {}
        ),
    );
    let expected = quote! {
        #[::core::prelude::v1::test]
        fn t() {
            async fn __cancelsim_body() {}
            #[allow(clippy::needless_update)]
            ::cancelsim::__private::test(
                ::core::module_path!(),
                "t",
                ::cancelsim::__private::TestArgs {
                    seeds: ::core::option::Option::None,
                    scheduler: ::core::option::Option::None,
                    cancel: ::core::option::Option::None,
                    timeouts: ::core::option::Option::None,
                    max_runs: ::core::option::Option::None,
                    explore: ::core::option::Option::None,
                    preset: ::core::option::Option::None,
                    body_end: ::core::option::Option::Some(::cancelsim::__private::here()),
                    ..::cancelsim::__private::TestArgs::DEFAULT
                },
                __cancelsim_body,
            );
        }
    };
    assert_eq!(normalised(&out), normalised(&expected));
}

#[test]
fn cancelsim_test_accepts_every_scheduler_cancel_mode_and_preset() {
    for scheduler in ["fifo", "random", "pct:1", "pct:3", "pct:12"] {
        let out = expand::cancelsim_test(
            quote!(scheduler = #scheduler),
            quote!(
                async fn t() {}
            ),
        );
        parse_fn(&out);
        assert!(
            out.to_string().contains(&format!("Some ({scheduler:?})")),
            "{out}"
        );
    }
    for cancel in ["drop", "coop", "both", "none"] {
        let out = expand::cancelsim_test(
            quote!(cancel = #cancel),
            quote!(
                async fn t() {}
            ),
        );
        parse_fn(&out);
        assert!(
            out.to_string().contains(&format!(
                "cancel : :: core :: option :: Option :: Some ({cancel:?})"
            )),
            "{out}"
        );
    }
    for preset in ["tokio", "cancelsim"] {
        let out = expand::cancelsim_test(
            quote!(preset = #preset),
            quote!(
                async fn t() {}
            ),
        );
        parse_fn(&out);
        assert!(
            out.to_string().contains(&format!(
                "preset : :: core :: option :: Option :: Some ({preset:?})"
            )),
            "{out}"
        );
    }
    let out = expand::cancelsim_test(
        quote!(timeouts = false, explore = 0, max_runs = 0),
        quote!(
            async fn t() {}
        ),
    );
    let s = out.to_string();
    assert!(
        s.contains("timeouts : :: core :: option :: Option :: Some (false)"),
        "{s}"
    );
    assert!(
        s.contains("explore : :: core :: option :: Option :: Some (0u64)"),
        "{s}"
    );
    assert!(
        s.contains("max_runs : :: core :: option :: Option :: Some (0usize)"),
        "{s}"
    );
}

#[test]
fn cancelsim_test_passes_the_exhaustive_bound_only_when_given() {
    let out = expand::cancelsim_test(
        quote!(exhaustive = 2),
        quote!(
            async fn t() {}
        ),
    );
    let s = out.to_string();
    assert!(
        s.contains("exhaustive : :: core :: option :: Option :: Some (2usize)"),
        "{s}"
    );
    let out = expand::cancelsim_test(
        quote!(),
        quote!(
            async fn t() {}
        ),
    );
    assert!(!out.to_string().contains("exhaustive"), "{out}");
    assert_error(
        &expand::cancelsim_test(
            quote!(exhaustive = "all"),
            quote!(
                async fn t() {}
            ),
        ),
        "`exhaustive` must be a non-negative integer literal, e.g. `exhaustive = 2`",
    );
}

#[test]
fn integer_literals_may_carry_the_matching_suffix_and_separators() {
    let out = expand::cancelsim_test(
        quote!(seeds = 1_000u64, max_runs = 5usize, explore = 0x10),
        quote!(
            async fn t() {}
        ),
    );
    let s = out.to_string();
    assert!(s.contains("Some (1000u64)"), "{s}");
    assert!(s.contains("Some (5usize)"), "{s}");
    assert!(s.contains("Some (16u64)"), "{s}");
}

#[test]
fn values_wrapped_by_macro_rules_are_accepted() {
    // `macro_rules!` hands captured `$n:expr` / `$s:expr` fragments over
    // wrapped in invisible groups.
    let seeds = Group::new(Delimiter::None, quote!(8));
    let cancel = Group::new(Delimiter::None, quote!("coop"));
    let out = expand::cancelsim_test(
        quote!(seeds = #seeds, cancel = #cancel),
        quote!(
            async fn t() {}
        ),
    );
    let s = parse_fn(&out).to_token_stream().to_string();
    assert!(
        s.contains("Some (8u64)") && s.contains("Some (\"coop\")"),
        "{s}"
    );
}

#[test]
fn crate_argument_replaces_the_cancelsim_path() {
    let out = expand::cancelsim_test(
        quote!(crate = "::my_sim::reexport", seeds = 2),
        quote!(
            async fn t() {}
        ),
    );
    let s = parse_fn(&out).to_token_stream().to_string();
    assert!(
        s.contains(":: my_sim :: reexport :: __private :: test ("),
        "{s}"
    );
    assert!(
        s.contains(":: my_sim :: reexport :: __private :: TestArgs {"),
        "{s}"
    );
    assert!(
        s.contains(".. :: my_sim :: reexport :: __private :: TestArgs :: DEFAULT"),
        "{s}"
    );
    assert!(!s.contains("cancelsim ::"), "{s}");

    // Inside cancelsim itself.
    let out = expand::cancelsim_test(
        quote!(crate = "crate"),
        quote!(
            async fn t() {}
        ),
    );
    let s = parse_fn(&out).to_token_stream().to_string();
    assert!(s.contains("crate :: __private :: test ("), "{s}");
    assert!(!s.contains(":: cancelsim"), "{s}");
}

#[test]
fn attributes_are_kept_in_order_after_the_test_attribute() {
    let out = expand::cancelsim_test(
        quote!(),
        quote! {
            /// First line.
            #[ignore = "slow"]
            #[should_panic(expected = "boom")]
            /// Second line.
            #[allow(clippy::unused_async)]
            async fn t() { panic!("boom") }
        },
    );
    let outer = parse_fn(&out);
    let attrs: Vec<String> = outer
        .attrs
        .iter()
        .map(|a| a.to_token_stream().to_string())
        .collect();
    assert_eq!(
        attrs,
        [
            "# [:: core :: prelude :: v1 :: test]",
            "# [doc = r\" First line.\"]",
            "# [ignore = \"slow\"]",
            "# [should_panic (expected = \"boom\")]",
            "# [doc = r\" Second line.\"]",
            "# [allow (clippy :: unused_async)]",
        ]
    );
    // And none of them on the inner fn.
    assert!(inner_fn(&outer).attrs.is_empty());
}

#[test]
fn inner_fn_carries_the_return_type_and_body_so_question_mark_works() {
    let out = expand::cancelsim_test(
        quote!(),
        quote! {
            async fn t() -> ::std::result::Result<(), ::std::io::Error> {
                let n: u32 = "12".parse().map_err(::std::io::Error::other)?;
                if n == 0 { return Ok(()); }
                Ok(())
            }
        },
    );
    let outer = parse_fn(&out);
    // The outer #[test] fn returns (); the result is the harness's business.
    assert!(matches!(outer.sig.output, ReturnType::Default));
    assert!(outer.sig.asyncness.is_none());
    let inner = inner_fn(&outer);
    assert!(inner.sig.asyncness.is_some());
    assert_eq!(inner.sig.ident, "__cancelsim_body");
    assert_eq!(
        inner.sig.output.to_token_stream().to_string(),
        quote!(-> ::std::result::Result<(), ::std::io::Error>).to_string()
    );
    assert_eq!(
        inner.block.to_token_stream().to_string(),
        quote!({
            let n: u32 = "12".parse().map_err(::std::io::Error::other)?;
            if n == 0 {
                return Ok(());
            }
            Ok(())
        })
        .to_string()
    );
}

#[test]
fn raw_identifiers_are_named_without_the_prefix() {
    let out = expand::cancelsim_test(
        quote!(),
        quote!(
            async fn r#match() {}
        ),
    );
    let outer = parse_fn(&out);
    assert_eq!(outer.sig.ident.to_string(), "r#match");
    assert!(out.to_string().contains(", \"match\" ,"), "{out}");
}

// ---------------------------------------------------------------------------
// #[cancelsim::test]: errors
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// #[tokio::test]
// ---------------------------------------------------------------------------

#[test]
fn tokio_test_expands_to_the_documented_shape() {
    let out = expand::tokio_test(
        quote!(
            flavor = "multi_thread",
            worker_threads = 4,
            seeds = 8,
            explore = 2,
            max_runs = 100
        ),
        quote! {
            #[ignore]
            async fn serves() -> Result<(), Box<dyn std::error::Error>> { run().await?; Ok(()) }
        },
    );
    let expected = quote! {
        #[::core::prelude::v1::test]
        #[ignore]
        fn serves() {
            async fn __cancelsim_body() -> Result<(), Box<dyn std::error::Error>> { run().await?; Ok(()) }
            #[allow(clippy::needless_update)]
            ::tokio::__private::test(
                ::core::module_path!(),
                "serves",
                ::tokio::__private::TokioTestArgs {
                    flavor: ::core::option::Option::Some("multi_thread"),
                    worker_threads: ::core::option::Option::Some(4usize),
                    start_paused: ::core::option::Option::None,
                    seeds: ::core::option::Option::Some(8u64),
                    explore: ::core::option::Option::Some(2u64),
                    max_runs: ::core::option::Option::Some(100usize),
                    body_end: ::core::option::Option::Some(::tokio::__private::here()),
                    ..::tokio::__private::TokioTestArgs::DEFAULT
                },
                __cancelsim_body,
            );
        }
    };
    assert_eq!(normalised(&out), normalised(&expected));
    parse_fn(&out);
}

#[test]
fn tokio_test_accepts_plain_and_current_thread_forms() {
    let out = expand::tokio_test(
        quote!(),
        quote!(
            async fn t() {}
        ),
    );
    let s = parse_fn(&out).to_token_stream().to_string();
    assert!(
        s.contains("flavor : :: core :: option :: Option :: None"),
        "{s}"
    );
    assert!(s.contains(":: tokio :: __private :: test ("), "{s}");

    let out = expand::tokio_test(
        quote!(flavor = "current_thread", start_paused = true),
        quote!(
            async fn t() {}
        ),
    );
    let s = parse_fn(&out).to_token_stream().to_string();
    assert!(
        s.contains("flavor : :: core :: option :: Option :: Some (\"current_thread\")"),
        "{s}"
    );
    assert!(
        s.contains("start_paused : :: core :: option :: Option :: Some (true)"),
        "{s}"
    );

    // start_paused is fine with the default (current_thread) flavor.
    let out = expand::tokio_test(
        quote!(start_paused = false),
        quote!(
            async fn t() {}
        ),
    );
    parse_fn(&out);
}

#[test]
fn tokio_test_crate_argument_replaces_the_tokio_path() {
    let out = expand::tokio_test(
        quote!(crate = "cancelsim_tokio"),
        quote!(
            async fn t() {}
        ),
    );
    let s = parse_fn(&out).to_token_stream().to_string();
    assert!(s.contains("cancelsim_tokio :: __private :: test ("), "{s}");
    assert!(
        s.contains("cancelsim_tokio :: __private :: TokioTestArgs {"),
        "{s}"
    );
    assert!(
        s.contains(".. cancelsim_tokio :: __private :: TokioTestArgs :: DEFAULT"),
        "{s}"
    );
    assert!(!s.contains(":: tokio"), "{s}");
}

#[test]
fn tokio_test_errors_carry_hints() {
    let cases: &[(TokenStream2, TokenStream2, &str)] = &[
        (quote!(), quote!(fn t() {}), "the `async` keyword is missing from the function declaration"),
        (quote!(), quote!(async fn t(a: u8) {}), "#[tokio::test] functions take no arguments"),
        (quote!(), quote!(async fn t<'a>() {}), "test functions cannot be generic"),
        (quote!(), quote!(#[test] async fn t() {}), "second test attribute"),
        (quote!(threads = 2), quote!(async fn t() {}), "unknown argument `threads`; expected one of: `flavor`, `worker_threads`, `start_paused`, `crate`, `seeds`, `explore`, `max_runs`"),
        (quote!(scheduler = "fifo"), quote!(async fn t() {}), "unknown argument `scheduler`"),
        (quote!(flavor = "local_set"), quote!(async fn t() {}), "unknown runtime flavor \"local_set\"; expected one of: \"current_thread\", \"multi_thread\""),
        (quote!(flavor = multi_thread), quote!(async fn t() {}), "`flavor` must be a string literal"),
        (quote!(flavor = "multi_thread", worker_threads = 0), quote!(async fn t() {}), "`worker_threads` must be a positive integer literal"),
        (quote!(worker_threads = 2), quote!(async fn t() {}), "the `worker_threads` option requires the `multi_thread` runtime flavor. Use `#[tokio::test(flavor = \"multi_thread\")]`"),
        (quote!(flavor = "current_thread", worker_threads = 2), quote!(async fn t() {}), "requires the `multi_thread` runtime flavor"),
        (quote!(flavor = "multi_thread", start_paused = true), quote!(async fn t() {}), "the `start_paused` option requires the `current_thread` runtime flavor. Use `#[tokio::test(flavor = \"current_thread\")]`"),
        (quote!(start_paused = 1), quote!(async fn t() {}), "`start_paused` must be `true` or `false`"),
        (quote!(seeds = 0), quote!(async fn t() {}), "`seeds` must be a positive integer literal"),
        (quote!(explore = "x"), quote!(async fn t() {}), "`explore` must be a non-negative integer literal"),
        (quote!(max_runs = 1, max_runs = 2), quote!(async fn t() {}), "duplicate argument `max_runs`"),
        (quote!(crate = "::"), quote!(async fn t() {}), "`crate` must be a path"),
    ];
    for (attr, item, hint) in cases {
        let out = expand::tokio_test(attr.clone(), item.clone());
        assert_error(&out, hint);
    }
}

// ---------------------------------------------------------------------------
// #[tokio::main]
// ---------------------------------------------------------------------------

#[test]
fn tokio_main_expands_to_the_documented_shape() {
    let out = expand::tokio_main(
        quote!(flavor = "multi_thread", worker_threads = 2),
        quote! {
            /// Entry point.
            #[allow(unused)]
            pub(crate) async fn serve() -> std::io::Result<u16> { let port = bind().await?; Ok(port) }
        },
    );
    let expected = quote! {
        /// Entry point.
        #[allow(unused)]
        pub(crate) fn serve() -> std::io::Result<u16> {
            async fn __cancelsim_main() -> std::io::Result<u16> { let port = bind().await?; Ok(port) }
            ::tokio::__private::main(__cancelsim_main)
        }
    };
    assert_eq!(normalised(&out), normalised(&expected));
    let outer = parse_fn(&out);
    assert!(outer.sig.asyncness.is_none());
    assert!(outer.attrs.iter().all(|a| !a.path().is_ident("test")));
    assert_eq!(
        inner_fn(&outer).sig.output.to_token_stream().to_string(),
        outer.sig.output.to_token_stream().to_string()
    );
}

#[test]
fn tokio_main_on_main_with_defaults_and_crate() {
    let out = expand::tokio_main(
        quote!(),
        quote!(
            async fn main() {
                run().await
            }
        ),
    );
    let expected = quote! {
        fn main() {
            async fn __cancelsim_main() { run().await }
            ::tokio::__private::main(__cancelsim_main)
        }
    };
    assert_eq!(normalised(&out), normalised(&expected));
    let out = expand::tokio_main(
        quote!(
            crate = "my::tokio",
            flavor = "current_thread",
            start_paused = true
        ),
        quote!(
            async fn main() {}
        ),
    );
    let s = parse_fn(&out).to_token_stream().to_string();
    assert!(
        s.contains("my :: tokio :: __private :: main (__cancelsim_main)"),
        "{s}"
    );
}

#[test]
fn tokio_main_errors_carry_hints() {
    let cases: &[(TokenStream2, TokenStream2, &str)] = &[
        (quote!(), quote!(fn main() {}), "the `async` keyword is missing from the function declaration"),
        (quote!(), quote!(async fn main(args: Vec<String>) {}), "#[tokio::main] functions take no arguments"),
        (quote!(), quote!(async fn main<T>() {}), "#[tokio::main] functions cannot be generic"),
        (quote!(), quote!(const fn main() {}), "cannot be `const`"),
        (quote!(seeds = 3), quote!(async fn main() {}), "unknown argument `seeds`; expected one of: `flavor`, `worker_threads`, `start_paused`, `crate`"),
        // tokio::main defaults to the multi-threaded flavor.
        (quote!(start_paused = true), quote!(async fn main() {}), "Use `#[tokio::main(flavor = \"current_thread\")]`"),
        (quote!(flavor = "current_thread", worker_threads = 4), quote!(async fn main() {}), "Use `#[tokio::main(flavor = \"multi_thread\")]`"),
        (quote!(flavor = "both"), quote!(async fn main() {}), "unknown runtime flavor"),
    ];
    for (attr, item, hint) in cases {
        let out = expand::tokio_main(attr.clone(), item.clone());
        assert_error(&out, hint);
    }
    // worker_threads alone is fine for main (multi_thread by default).
    parse_fn(&expand::tokio_main(
        quote!(worker_threads = 4),
        quote!(
            async fn main() {}
        ),
    ));
}

// ---------------------------------------------------------------------------
// Robustness
// ---------------------------------------------------------------------------

#[test]
fn no_input_makes_a_macro_panic() {
    let attrs = [
        quote!(),
        quote!(,),
        quote!(= 1),
        quote!(seeds =),
        quote!(seeds = ,),
        quote!(seeds == 1),
        quote!(123),
        quote!("str"),
        quote!(crate),
        quote!(crate = ""),
        quote!(crate = "::a::b::"),
        quote!(scheduler = "pct:99999999999999999999999"),
        quote!(a = 1, b = 2, c = 3, a = 1),
        quote!({ seeds = 1 }),
    ];
    let items = [
        quote!(),
        quote!(async),
        quote!(async fn),
        quote!(async fn t),
        quote!(async fn t() -> {}),
        quote!(
            fn t(self) {}
        ),
        quote!(
            async fn t(...) {}
        ),
        quote!(impl Foo {}),
        quote!(
            mod m {}
        ),
        quote!(
            async fn t() {}
            async fn u() {}
        ),
    ];
    for (name, expander) in ALL {
        for attr in &attrs {
            for item in &items {
                // None of the items is a valid function, so every combination
                // must come back as an error, not a panic or an expansion.
                let out = expander(attr.clone(), item.clone());
                assert!(
                    !compile_errors(&out).is_empty(),
                    "{name}: {attr} / {item}: {out}"
                );
                assert!(!out.to_string().contains("__cancelsim"), "{name}: {out}");
            }
        }
    }
}

#[test]
fn trailing_comma_is_accepted() {
    for (name, expander) in ALL {
        let out = expander(
            quote!(crate = "x",),
            quote!(
                async fn t() {}
            ),
        );
        assert!(compile_errors(&out).is_empty(), "{name}: {out}");
        parse_fn(&out);
    }
}

/// The span of the first `name` identifier that follows `after` in `out`.
fn ident_after(out: &TokenStream2, after: &str, name: &str) -> Option<LineColumn> {
    let tokens: Vec<TokenTree> = out.clone().into_iter().collect();
    for (i, tt) in tokens.iter().enumerate() {
        if let TokenTree::Group(g) = tt {
            if let Some(found) = ident_after(&g.stream(), after, name) {
                return Some(found);
            }
        }
        if let TokenTree::Ident(id) = tt {
            if id == name && i >= 3 && matches!(&tokens[i - 3], TokenTree::Ident(a) if a == after) {
                return Some(id.span().start());
            }
        }
    }
    None
}

#[test]
fn harness_call_is_located_at_the_return_type() {
    // So that "the trait bound `u32: ...` is not satisfied" points at `u32`.
    let item = "async fn c() -> u32 { 1 }";
    let out = expand::cancelsim_test(quote!(), ts(item));
    assert_eq!(
        ident_after(&out, "__private", "test"),
        Some(position_of(item, "u32"))
    );
    let out = expand::tokio_test(quote!(), ts(item));
    assert_eq!(
        ident_after(&out, "__private", "test"),
        Some(position_of(item, "u32"))
    );
    let out = expand::tokio_main(quote!(), ts(item));
    assert_eq!(
        ident_after(&out, "__private", "main"),
        Some(position_of(item, "u32"))
    );
    // Without a return type: at the function's name.
    let item = "async fn no_ret() {}";
    let out = expand::cancelsim_test(quote!(), ts(item));
    assert_eq!(
        ident_after(&out, "__private", "test"),
        Some(position_of(item, "no_ret"))
    );
}
