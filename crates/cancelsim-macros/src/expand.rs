//! The expansions of the three attribute macros, as plain
//! `TokenStream2 -> TokenStream2` functions so they can be unit-tested
//! without a compiler.
//!
//! On any error the output is the user's item unchanged followed by one
//! `compile_error!` per problem (as tokio does), so that the error is the only
//! diagnostic and tools such as rust-analyzer still see the function.

use proc_macro2::{Delimiter, Group, Span, TokenStream as TokenStream2, TokenTree};
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn, LitStr, ReturnType};

use crate::args::{CancelsimTestArgs, MacroKind, TokioArgs};

/// Expands `#[cancelsim::test(attr)] item`.
pub(crate) fn cancelsim_test(attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let kind = MacroKind::CancelsimTest;
    match both(CancelsimTestArgs::parse(attr), parse_fn(kind, item.clone())) {
        Ok((args, func)) => {
            let end = body_end(&func, &args.krate);
            expand_test(&func, &args.krate, args.to_struct_expr(&end))
        }
        Err(e) => with_error(item, e),
    }
}

/// Expands the simulated `#[tokio::test(attr)] item`.
pub(crate) fn tokio_test(attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let kind = MacroKind::TokioTest;
    match both(TokioArgs::parse(kind, attr), parse_fn(kind, item.clone())) {
        Ok((args, func)) => {
            let end = body_end(&func, &args.krate);
            expand_test(&func, &args.krate, args.to_test_struct_expr(&end))
        }
        Err(e) => with_error(item, e),
    }
}

/// Expands the simulated `#[tokio::main(attr)] item`.
pub(crate) fn tokio_main(attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let kind = MacroKind::TokioMain;
    match both(TokioArgs::parse(kind, attr), parse_fn(kind, item.clone())) {
        Ok((args, func)) => expand_main(&func, &args.krate, args.is_current_thread()),
        Err(e) => with_error(item, e),
    }
}

/// The shared shape of both test macros:
///
/// ```ignore
/// #[::core::prelude::v1::test]
/// #attrs
/// #vis fn name() {
///     async fn __cancelsim_body() #ret { body }
///     #krate::__private::test(::core::module_path!(), "name", #args, __cancelsim_body);
/// }
/// ```
fn expand_test(func: &ItemFn, krate: &syn::Path, args: TokenStream2) -> TokenStream2 {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = func;
    let fn_token = &sig.fn_token;
    let asyncness = &sig.asyncness;
    let ident = &sig.ident;
    let ret = &sig.output;
    let name = LitStr::new(&ident.unraw().to_string(), ident.span());
    // Errors about the body's return type not being accepted by the harness
    // (e.g. `-> u32`) point at the user's return type: the call expression
    // (callee and parentheses) is located there, the arguments keep their
    // own spans.
    let at_ret = ret_span(func);
    let call = call_at(
        quote!(#krate::__private::test),
        quote! {
            ::core::module_path!(),
            #name,
            #args,
            __cancelsim_body,
        },
        at_ret,
    );
    quote! {
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis #fn_token #ident() {
            #asyncness fn __cancelsim_body() #ret #block
            // Every argument is spelled out and `..DEFAULT` fills those added later.
            #[allow(clippy::needless_update)]
            #call;
        }
    }
}

/// The expansion of `#[tokio::main]`:
///
/// ```ignore
/// #attrs
/// #vis fn name() #ret {
///     async fn __cancelsim_main() #ret { body }
///     #krate::__private::main(__cancelsim_main)
/// }
/// ```
///
/// (`__private::main_current_thread` with `flavor = "current_thread"`.)
fn expand_main(func: &ItemFn, krate: &syn::Path, current_thread: bool) -> TokenStream2 {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = func;
    let fn_token = &sig.fn_token;
    let asyncness = &sig.asyncness;
    let ident = &sig.ident;
    let ret = &sig.output;
    let callee = if current_thread {
        quote!(#krate::__private::main_current_thread)
    } else {
        quote!(#krate::__private::main)
    };
    let call = call_at(callee, quote!(__cancelsim_main), ret_span(func));
    quote! {
        #(#attrs)*
        #vis #fn_token #ident() #ret {
            #asyncness fn __cancelsim_main() #ret #block
            #call
        }
    }
}

/// `callee(args)` with the callee's tokens and the parentheses located at
/// `at`, so that rustc reports an unsatisfied bound of the call there.
fn call_at(callee: TokenStream2, args: TokenStream2, at: Span) -> TokenStream2 {
    let mut parens = Group::new(Delimiter::Parenthesis, args);
    parens.set_span(Span::call_site().located_at(at));
    let mut call = located_at(callee, at);
    call.extend([TokenTree::Group(parens)]);
    call
}

/// `tokens` with every span moved to `at` (for diagnostics) while keeping
/// each token's own name resolution.
fn located_at(tokens: TokenStream2, at: Span) -> TokenStream2 {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(g) = &tt {
                let mut group = Group::new(g.delimiter(), located_at(g.stream(), at));
                group.set_span(g.span().located_at(at));
                tt = TokenTree::Group(group);
            } else {
                tt.set_span(tt.span().located_at(at));
            }
            tt
        })
        .collect()
}

/// `Some(krate::__private::here())` located at the body's closing brace:
/// at run time, the location of the test's last line.
fn body_end(func: &ItemFn, krate: &syn::Path) -> TokenStream2 {
    // Spanned with the brace's own context (absolute paths, so hygiene
    // does not matter): a location with the macro's context would be
    // reported at the attribute, where the expansion comes from.
    let at = func.block.brace_token.span.close();
    let krate: TokenStream2 = quote!(#krate)
        .into_iter()
        .map(|mut tt| {
            tt.set_span(at);
            tt
        })
        .collect();
    quote::quote_spanned!(at=> ::core::option::Option::Some(#krate::__private::here()))
}

/// The span of the declared return type, or of the name when there is none.
fn ret_span(func: &ItemFn) -> Span {
    match &func.sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => func.sig.ident.span(),
    }
}

/// Both results, or all of their errors combined.
fn both<A, B>(a: syn::Result<A>, b: syn::Result<B>) -> syn::Result<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
        (Err(mut a), Err(b)) => {
            a.combine(b);
            Err(a)
        }
    }
}

/// The user's item unchanged, followed by the errors.
fn with_error(item: TokenStream2, error: syn::Error) -> TokenStream2 {
    let mut out = item;
    out.extend(error.to_compile_error());
    out
}

/// Parses the item as a function and checks that its signature is one the
/// macro can wrap: `async`, no parameters, not generic, not `const`,
/// `unsafe` or `extern`, and (for tests) no second test attribute.
fn parse_fn(kind: MacroKind, item: TokenStream2) -> syn::Result<ItemFn> {
    let attr = kind.attr_name();
    let func: ItemFn = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("{attr} can only be applied to an `async fn`: {e}"),
        )
    })?;
    let sig = &func.sig;
    let what = if kind == MacroKind::TokioMain {
        attr
    } else {
        "test"
    };
    let mut errors: Vec<syn::Error> = Vec::new();

    if sig.asyncness.is_none() {
        let msg = match kind {
            MacroKind::CancelsimTest => format!(
                "expected `async fn`: the `async` keyword is missing from the function \
                 declaration ({attr} runs an `async fn` in the simulator)"
            ),
            MacroKind::TokioTest | MacroKind::TokioMain => {
                "the `async` keyword is missing from the function declaration".to_owned()
            }
        };
        errors.push(syn::Error::new(sig.fn_token.span, msg));
    }
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new(
            constness.span,
            format!("{what} functions cannot be `const`"),
        ));
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.push(syn::Error::new(
            unsafety.span,
            format!("{what} functions cannot be `unsafe`"),
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            format!("{what} functions cannot have an `extern` ABI"),
        ));
    }
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            format!("{what} functions cannot be generic: remove the generic parameters"),
        ));
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            format!("{what} functions cannot be generic: remove the `where` clause"),
        ));
    }
    if !sig.inputs.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.inputs,
            format!("{attr} functions take no arguments"),
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            format!("{attr} functions take no arguments"),
        ));
    }
    if kind != MacroKind::TokioMain {
        if let Some(test) = func.attrs.iter().find(|a| is_test_attr(a)) {
            errors.push(syn::Error::new_spanned(
                test,
                format!(
                    "second test attribute is supplied: {attr} already marks the function as a \
                     test; remove this `#[test]`"
                ),
            ));
        }
    }

    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(func),
        Some(mut first) => {
            errors.for_each(|e| first.combine(e));
            Err(first)
        }
    }
}

/// `#[test]`, `#[core::prelude::*::test]` or `#[std::prelude::*::test]`
/// (with or without a leading `::`).
fn is_test_attr(attr: &Attribute) -> bool {
    let segments: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_token_stream().to_string())
        .collect();
    match segments.as_slice() {
        [test] => test == "test",
        [root, prelude, _edition, test] => {
            (root == "core" || root == "std") && prelude == "prelude" && test == "test"
        }
        _ => false,
    }
}
