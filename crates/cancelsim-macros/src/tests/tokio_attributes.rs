//! `#[tokio::test]` and `#[tokio::main]`: expansions and errors.

use super::*;

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
        s.contains("my :: tokio :: __private :: main_current_thread (__cancelsim_main)"),
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
