//! `branch_location!`: where an expression handed to a `macro_rules!`
//! macro is written, at run time.
//!
//! A `macro_rules!` macro cannot get that itself: `line!()`, and a
//! `#[track_caller]` call it writes, both resolve to the outermost macro
//! invocation (the `select!`), because their spans carry the macro's
//! context. A call whose tokens all carry the span of the expression's
//! first token (the user's context) is located there.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};

/// `::core::panic::Location::caller()`, every token spanned at the first
/// token of `input`: the location where `input` starts. (`::core` resolves
/// in any crate, so the user's context resolves the path too.)
pub(crate) fn branch_location(input: TokenStream) -> TokenStream {
    let at = first_span(input).unwrap_or_else(Span::call_site);
    quote::quote_spanned!(at=> ::core::panic::Location::caller())
}

/// The span of the first token, inside the invisible group a `$fut:expr`
/// fragment arrives in.
fn first_span(tokens: TokenStream) -> Option<Span> {
    match tokens.into_iter().next()? {
        TokenTree::Group(group) if group.delimiter() == Delimiter::None => {
            first_span(group.stream()).or(Some(group.span()))
        }
        token => Some(token.span()),
    }
}
