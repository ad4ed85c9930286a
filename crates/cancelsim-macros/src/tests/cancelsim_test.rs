//! `#[cancelsim::test]`: the expansion.

use super::*;

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
