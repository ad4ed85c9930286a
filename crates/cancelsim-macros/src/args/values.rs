//! Reading one attribute's `name = value` list, each kind of value in it
//! (integers, strings, one of a set, schedulers, booleans, the crate path),
//! and turning validated values back into literal tokens spanned at the
//! user's source.

use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Lit, LitBool, LitInt, LitStr, Meta, Path, Token};

use super::{MacroKind, Val, SCHEDULERS};

/// Collects several errors into one combined [`syn::Error`].
#[derive(Default)]
pub(super) struct Errors(Option<syn::Error>);

impl Errors {
    pub(super) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(super) fn push_result(&mut self, result: syn::Result<()>) {
        if let Err(e) = result {
            self.push(e);
        }
    }

    pub(super) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Splits the attribute into `(name, value)` pairs, checking that every
/// entry is `name = value`, that the name is known to `kind` and that no name
/// appears twice. Entries with such problems are reported into `errors` and
/// left out; a list that does not even parse is a hard error.
pub(super) fn name_values(
    kind: MacroKind,
    attr: TokenStream2,
    errors: &mut Errors,
) -> syn::Result<Vec<(Ident, Expr)>> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated
        .parse2(attr)
        .map_err(|e| {
            syn::Error::new(
                e.span(),
                format!(
                    "{e}; {} arguments are written `name = value`, separated by commas",
                    kind.attr_name()
                ),
            )
        })?;
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for meta in metas {
        let path = meta.path();
        let Some(name) = path.get_ident().cloned() else {
            errors.push(syn::Error::new_spanned(
                path,
                format!(
                    "expected an argument name; expected one of: {}",
                    list(kind.known())
                ),
            ));
            continue;
        };
        let name_str = name.to_string();
        if !kind.known().contains(&name_str.as_str()) {
            errors.push(syn::Error::new(
                name.span(),
                format!(
                    "unknown argument `{name_str}`; expected one of: {}",
                    list(kind.known())
                ),
            ));
            continue;
        }
        let value = match meta {
            Meta::NameValue(nv) => nv.value,
            Meta::Path(_) => {
                errors.push(syn::Error::new(
                    name.span(),
                    format!(
                        "`{name_str}` expects a value: `{name_str} = {}`",
                        example(&name_str)
                    ),
                ));
                continue;
            }
            Meta::List(list) => {
                errors.push(syn::Error::new(
                    list.delimiter.span().open(),
                    format!("expected `{name_str} = {}`", example(&name_str)),
                ));
                continue;
            }
        };
        if seen.contains(&name_str) {
            errors.push(syn::Error::new(
                name.span(),
                format!("duplicate argument `{name_str}`; each argument may be given only once"),
            ));
            continue;
        }
        seen.push(name_str);
        out.push((name, value));
    }
    Ok(out)
}

/// A value to show in "expects a value" hints.
pub(super) fn example(name: &str) -> &'static str {
    match name {
        "seeds" => "16",
        "max_runs" => "500",
        "explore" => "32",
        "exhaustive" => "2",
        "worker_threads" => "4",
        "scheduler" => "\"random\"",
        "cancel" => "\"both\"",
        "preset" => "\"tokio\"",
        "flavor" => "\"multi_thread\"",
        "crate" => "\"path::to::crate\"",
        "grace" => "\"5s\"",
        _ => "true",
    }
}

/// Formats names as "`a`, `b`, `c`".
pub(super) fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Formats string values as "\"a\", \"b\"".
pub(super) fn quoted_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Only reached if a name is in `known()` but has no arm in the caller's
/// `match`; reports it instead of panicking.
pub(super) fn unreachable_known(name: &Ident) -> syn::Result<()> {
    Err(syn::Error::new(
        name.span(),
        format!("argument `{name}` is not supported by this macro"),
    ))
}

/// Strips the invisible groups that `macro_rules!` wraps around captured
/// fragments, so `#[cancelsim::test(seeds = $n)]` works.
pub(super) fn strip_groups(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => strip_groups(&g.expr),
        other => other,
    }
}

/// An integer literal `>= min`, with no suffix or the `suffix` of the field
/// it fills (`u64` / `usize`).
pub(super) fn int_arg(name: &Ident, value: &Expr, min: u64, suffix: &str) -> syn::Result<Val<u64>> {
    let hint = || {
        let kind = if min >= 1 { "positive" } else { "non-negative" };
        format!(
            "`{name}` must be a {kind} integer literal, e.g. `{name} = {}`",
            example(&name.to_string())
        )
    };
    match strip_groups(value) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(int), ..
        }) => {
            if !int.suffix().is_empty() && int.suffix() != suffix {
                return Err(syn::Error::new(
                    int.span(),
                    format!(
                        "`{name}` is a `{suffix}`: write the literal without a suffix or with `{suffix}`"
                    ),
                ));
            }
            let v: u64 = int
                .base10_parse()
                .map_err(|e| syn::Error::new(int.span(), format!("{e}; {}", hint())))?;
            if v < min {
                return Err(syn::Error::new(int.span(), hint()));
            }
            Ok(Val {
                value: v,
                span: int.span(),
            })
        }
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            ..
        }) => Err(syn::Error::new_spanned(value, hint())),
        other => Err(syn::Error::new_spanned(other, hint())),
    }
}

/// A string literal.
pub(super) fn str_arg(name: &str, value: &Expr, example: &str) -> syn::Result<LitStr> {
    match strip_groups(value) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{name}` must be a string literal, e.g. `{name} = {example}`"),
        )),
    }
}

/// A string literal that is one of `allowed`.
pub(super) fn one_of_arg(
    name: &Ident,
    value: &Expr,
    what: &str,
    allowed: &[&str],
) -> syn::Result<Val<String>> {
    let name_str = name.to_string();
    let lit = str_arg(&name_str, value, example(&name_str))?;
    let v = lit.value();
    if allowed.contains(&v.as_str()) {
        Ok(Val {
            value: v,
            span: lit.span(),
        })
    } else {
        Err(syn::Error::new(
            lit.span(),
            format!(
                "unknown {what} {v:?}; expected one of: {}",
                quoted_list(allowed)
            ),
        ))
    }
}

/// `"fifo"`, `"random"` or `"pct:N"` with `N >= 1`.
pub(super) fn scheduler_arg(value: &Expr) -> syn::Result<Val<String>> {
    let lit = str_arg("scheduler", value, "\"random\"")?;
    let v = lit.value();
    let ok = match v.as_str() {
        "fifo" | "random" => true,
        s => match s.strip_prefix("pct:") {
            Some(depth) => {
                let positive = !depth.is_empty()
                    && depth.bytes().all(|b| b.is_ascii_digit())
                    && depth.parse::<u64>().is_ok_and(|d| d >= 1);
                if !positive {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!(
                            "invalid PCT depth in scheduler {v:?}: N in \"pct:N\" must be a \
                             positive integer, e.g. \"pct:3\""
                        ),
                    ));
                }
                true
            }
            None => false,
        },
    };
    if ok {
        Ok(Val {
            value: v,
            span: lit.span(),
        })
    } else {
        Err(syn::Error::new(
            lit.span(),
            format!("unknown scheduler {v:?}; expected one of: {SCHEDULERS}"),
        ))
    }
}

/// `true` or `false`.
pub(super) fn bool_arg(name: &Ident, value: &Expr) -> syn::Result<Val<bool>> {
    match strip_groups(value) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(Val {
            value: b.value,
            span: b.span,
        }),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{name}` must be `true` or `false`"),
        )),
    }
}

/// `crate = "some::path"`: the string parsed as a module-style path.
pub(super) fn crate_arg(value: &Expr) -> syn::Result<Path> {
    let lit = str_arg("crate", value, "\"path::to::crate\"")?;
    lit.parse_with(Path::parse_mod_style).map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!(
                "`crate` must be a path such as \"::my_crate\" or \"my_crate::reexport\", found {:?}",
                lit.value()
            ),
        )
    })
}

/// `Some(value)` / `None` as a fully qualified expression.
pub(super) fn opt<T>(
    value: &Option<Val<T>>,
    lit: impl Fn(&Val<T>) -> TokenStream2,
) -> TokenStream2 {
    match value {
        Some(v) => {
            let lit = lit(v);
            quote!(::core::option::Option::Some(#lit))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// `16u64` / `500usize`, spanned at the user's literal.
pub(super) fn int_lit(v: &Val<u64>, suffix: &str) -> TokenStream2 {
    LitInt::new(&format!("{}{suffix}", v.value), v.span).into_token_stream()
}

/// The validated string, spanned at the user's literal.
pub(super) fn str_lit(v: &Val<String>) -> TokenStream2 {
    LitStr::new(&v.value, v.span).into_token_stream()
}

/// `true` / `false`, spanned at the user's literal.
pub(super) fn bool_lit(v: &Val<bool>) -> TokenStream2 {
    LitBool::new(v.value, v.span).into_token_stream()
}
