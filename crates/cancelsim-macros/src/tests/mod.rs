//! Unit tests of the expansions, run without a compiler: inputs are built
//! with `quote!` (or parsed from strings when spans matter) and outputs are
//! compared token by token with the expected expansion, or searched for
//! `compile_error!`s.

use proc_macro2::{Delimiter, Group, LineColumn, TokenStream as TokenStream2, TokenTree};
use quote::{quote, ToTokens};
use syn::{Item, ItemFn, LitStr, ReturnType, Stmt};

use crate::expand;

mod cancelsim_test;
mod cancelsim_test_errors;
mod robustness;
mod tokio_attributes;

pub(super) type Expander = fn(TokenStream2, TokenStream2) -> TokenStream2;

pub(super) const ALL: [(&str, Expander); 3] = [
    ("cancelsim_test", expand::cancelsim_test),
    ("tokio_test", expand::tokio_test),
    ("tokio_main", expand::tokio_main),
];

/// Parses a string as tokens (with real line/column spans).
pub(super) fn ts(s: &str) -> TokenStream2 {
    s.parse().expect("test input must tokenize")
}

/// A `compile_error!` found in an expansion: its message and where it points.
#[derive(Debug)]
pub(super) struct CompileError {
    message: String,
    at: LineColumn,
}

/// All `compile_error! { "..." }` invocations in `out`, in order.
pub(super) fn compile_errors(out: &TokenStream2) -> Vec<CompileError> {
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
pub(super) fn single_error(out: &TokenStream2, hint: &str) -> CompileError {
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
pub(super) fn assert_error(out: &TokenStream2, hint: &str) {
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
pub(super) fn normalised(tokens: &TokenStream2) -> String {
    syn::parse2::<syn::File>(tokens.clone())
        .unwrap_or_else(|e| panic!("not a list of items ({e}): {tokens}"))
        .to_token_stream()
        .to_string()
}

/// The expansion parsed back as a function.
#[track_caller]
pub(super) fn parse_fn(out: &TokenStream2) -> ItemFn {
    assert!(compile_errors(out).is_empty(), "unexpected errors in {out}");
    syn::parse2(out.clone()).unwrap_or_else(|e| panic!("expansion is not a fn ({e}): {out}"))
}

/// The inner `async fn` item declared in the expansion's body.
#[track_caller]
pub(super) fn inner_fn(outer: &ItemFn) -> &ItemFn {
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
pub(super) fn position_of(src: &str, needle: &str) -> LineColumn {
    let offset = src.find(needle).expect("needle in source");
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1);
    LineColumn { line, column }
}
