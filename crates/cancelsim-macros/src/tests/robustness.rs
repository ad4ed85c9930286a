//! Robustness: empty input, trailing commas, spans of the harness call.

use super::*;

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
