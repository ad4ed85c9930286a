//! Parsing and validation of the macros' arguments.
//!
//! Every macro takes a comma-separated list of `name = value` pairs. The list
//! is parsed as `Punctuated<Meta, Token![,]>` so that a bare `name` or a
//! `name(...)` gets a precise error instead of a generic parse failure. All
//! problems found in one list are reported together (combined
//! [`syn::Error`]s), each at the span of the offending token.

use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Lit, LitBool, LitInt, LitStr, Meta, Path, Token};

use crate::duration::duration_arg;

/// Which attribute macro the arguments belong to. Decides the set of known
/// arguments, the default crate path and the wording of messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MacroKind {
    /// `#[cancelsim::test]`.
    CancelsimTest,
    /// The simulated `#[tokio::test]`.
    TokioTest,
    /// The simulated `#[tokio::main]`.
    TokioMain,
}

impl MacroKind {
    /// The attribute as users write it, for messages: `#[tokio::test]`.
    pub(crate) fn attr_name(self) -> &'static str {
        match self {
            MacroKind::CancelsimTest => "#[cancelsim::test]",
            MacroKind::TokioTest => "#[tokio::test]",
            MacroKind::TokioMain => "#[tokio::main]",
        }
    }

    /// The attribute path without `#[]`, for suggestions: `tokio::test`.
    fn path_name(self) -> &'static str {
        match self {
            MacroKind::CancelsimTest => "cancelsim::test",
            MacroKind::TokioTest => "tokio::test",
            MacroKind::TokioMain => "tokio::main",
        }
    }

    /// The arguments this macro understands, in the order they are listed in
    /// the "unknown argument" message.
    fn known(self) -> &'static [&'static str] {
        match self {
            MacroKind::CancelsimTest => &[
                "seeds",
                "scheduler",
                "cancel",
                "timeouts",
                "max_runs",
                "explore",
                "preset",
                "crate",
                "grace",
                "exhaustive",
                "excuse_timeouts",
            ],
            MacroKind::TokioTest => &[
                "flavor",
                "worker_threads",
                "start_paused",
                "crate",
                "seeds",
                "explore",
                "max_runs",
            ],
            MacroKind::TokioMain => &["flavor", "worker_threads", "start_paused", "crate"],
        }
    }

    /// The crate path used when no `crate = "..."` argument is given.
    fn default_crate(self) -> Path {
        match self {
            MacroKind::CancelsimTest => syn::parse_quote!(::cancelsim),
            MacroKind::TokioTest | MacroKind::TokioMain => syn::parse_quote!(::tokio),
        }
    }
}

/// The accepted schedulers, for messages.
const SCHEDULERS: &str = "\"fifo\", \"random\", \"pct:N\" (N a positive integer, e.g. \"pct:3\")";
/// The accepted cancellation modes.
const CANCEL_MODES: &[&str] = &["drop", "coop", "both", "none"];
/// The accepted presets.
const PRESETS: &[&str] = &["tokio", "cancelsim"];
/// The accepted tokio runtime flavors.
const FLAVORS: &[&str] = &["current_thread", "multi_thread"];

/// A validated value together with the span of the token it came from, so
/// the generated literal points back at the user's source.
#[derive(Clone, Debug)]
pub(crate) struct Val<T> {
    /// The validated value.
    pub(crate) value: T,
    /// Span of the value's token in the attribute.
    pub(crate) span: Span,
}

/// The arguments of `#[cancelsim::test(...)]`, validated.
pub(crate) struct CancelsimTestArgs {
    /// The path replacing `::cancelsim` (from `crate = "..."`).
    pub(crate) krate: Path,
    seeds: Option<Val<u64>>,
    scheduler: Option<Val<String>>,
    cancel: Option<Val<String>>,
    timeouts: Option<Val<bool>>,
    max_runs: Option<Val<u64>>,
    explore: Option<Val<u64>>,
    exhaustive: Option<Val<u64>>,
    preset: Option<Val<String>>,
    grace: Option<Val<u64>>,
    excuse_timeouts: Option<Val<bool>>,
}

impl CancelsimTestArgs {
    /// Parses and validates the attribute's arguments.
    pub(crate) fn parse(attr: TokenStream2) -> syn::Result<Self> {
        let kind = MacroKind::CancelsimTest;
        let mut args = CancelsimTestArgs {
            krate: kind.default_crate(),
            seeds: None,
            scheduler: None,
            cancel: None,
            timeouts: None,
            max_runs: None,
            explore: None,
            exhaustive: None,
            preset: None,
            grace: None,
            excuse_timeouts: None,
        };
        let mut errors = Errors::default();
        for (name, value) in name_values(kind, attr, &mut errors)? {
            let result = match name.to_string().as_str() {
                "seeds" => int_arg(&name, &value, 1, "u64").map(|v| args.seeds = Some(v)),
                "max_runs" => int_arg(&name, &value, 0, "usize").map(|v| args.max_runs = Some(v)),
                "explore" => int_arg(&name, &value, 0, "u64").map(|v| args.explore = Some(v)),
                "exhaustive" => {
                    int_arg(&name, &value, 0, "usize").map(|v| args.exhaustive = Some(v))
                }
                "scheduler" => scheduler_arg(&value).map(|v| args.scheduler = Some(v)),
                "cancel" => one_of_arg(&name, &value, "cancellation mode", CANCEL_MODES)
                    .map(|v| args.cancel = Some(v)),
                "preset" => {
                    one_of_arg(&name, &value, "preset", PRESETS).map(|v| args.preset = Some(v))
                }
                "timeouts" => bool_arg(&name, &value).map(|v| args.timeouts = Some(v)),
                "grace" => duration_arg(&name, &value).map(|v| args.grace = Some(v)),
                "excuse_timeouts" => {
                    bool_arg(&name, &value).map(|v| args.excuse_timeouts = Some(v))
                }
                "crate" => crate_arg(&value).map(|p| args.krate = p),
                _ => unreachable_known(&name),
            };
            errors.push_result(result);
        }
        errors.finish()?;
        Ok(args)
    }

    /// The `TestArgs { ... }` struct expression passed to
    /// `__private::test`.
    pub(crate) fn to_struct_expr(&self, body_end: &TokenStream2) -> TokenStream2 {
        let krate = &self.krate;
        let seeds = opt(&self.seeds, |v| int_lit(v, "u64"));
        let scheduler = opt(&self.scheduler, str_lit);
        let cancel = opt(&self.cancel, str_lit);
        let timeouts = opt(&self.timeouts, bool_lit);
        let max_runs = opt(&self.max_runs, |v| int_lit(v, "usize"));
        let explore = opt(&self.explore, |v| int_lit(v, "u64"));
        let preset = opt(&self.preset, str_lit);
        // Only when given: the expansion of a test without it stays as
        // documented.
        let grace = self.grace.as_ref().map(|v| {
            let millis = int_lit(v, "u64");
            quote!(grace_ms: ::core::option::Option::Some(#millis),)
        });
        let excuse_timeouts = self.excuse_timeouts.as_ref().map(|v| {
            let excuse = bool_lit(v);
            quote!(excuse_timeouts: ::core::option::Option::Some(#excuse),)
        });
        let exhaustive = self.exhaustive.as_ref().map(|v| {
            let bound = int_lit(v, "usize");
            quote!(exhaustive: ::core::option::Option::Some(#bound),)
        });
        quote! {
            #krate::__private::TestArgs {
                seeds: #seeds,
                scheduler: #scheduler,
                cancel: #cancel,
                timeouts: #timeouts,
                max_runs: #max_runs,
                explore: #explore,
                preset: #preset,
                #grace
                #excuse_timeouts
                body_end: #body_end,
                #exhaustive
                ..#krate::__private::TestArgs::DEFAULT
            }
        }
    }
}

/// The arguments of the simulated `#[tokio::test(...)]` and
/// `#[tokio::main(...)]`, validated.
pub(crate) struct TokioArgs {
    /// The path replacing `::tokio` (from `crate = "..."`).
    pub(crate) krate: Path,
    flavor: Option<Val<String>>,
    worker_threads: Option<Val<u64>>,
    start_paused: Option<Val<bool>>,
    seeds: Option<Val<u64>>,
    explore: Option<Val<u64>>,
    max_runs: Option<Val<u64>>,
}

impl TokioArgs {
    /// Parses and validates the arguments of `kind` (which must be
    /// [`MacroKind::TokioTest`] or [`MacroKind::TokioMain`]).
    pub(crate) fn parse(kind: MacroKind, attr: TokenStream2) -> syn::Result<Self> {
        let mut args = TokioArgs {
            krate: kind.default_crate(),
            flavor: None,
            worker_threads: None,
            start_paused: None,
            seeds: None,
            explore: None,
            max_runs: None,
        };
        let mut errors = Errors::default();
        for (name, value) in name_values(kind, attr, &mut errors)? {
            let result = match name.to_string().as_str() {
                "flavor" => one_of_arg(&name, &value, "runtime flavor", FLAVORS)
                    .map(|v| args.flavor = Some(v)),
                "worker_threads" => {
                    int_arg(&name, &value, 1, "usize").map(|v| args.worker_threads = Some(v))
                }
                "start_paused" => bool_arg(&name, &value).map(|v| args.start_paused = Some(v)),
                "crate" => crate_arg(&value).map(|p| args.krate = p),
                "seeds" => int_arg(&name, &value, 1, "u64").map(|v| args.seeds = Some(v)),
                "explore" => int_arg(&name, &value, 0, "u64").map(|v| args.explore = Some(v)),
                "max_runs" => int_arg(&name, &value, 0, "usize").map(|v| args.max_runs = Some(v)),
                _ => unreachable_known(&name),
            };
            errors.push_result(result);
        }
        errors.finish()?;
        args.check_flavor(kind)?;
        Ok(args)
    }

    /// Tokio's own consistency rules: `worker_threads` needs the
    /// multi-threaded flavor and `start_paused` the current-thread one.
    /// `#[tokio::test]` defaults to `current_thread`, `#[tokio::main]` to
    /// `multi_thread`, exactly as in tokio, so code tokio rejects is rejected
    /// here too (and code tokio accepts is accepted).
    fn check_flavor(&self, kind: MacroKind) -> syn::Result<()> {
        let flavor = match &self.flavor {
            Some(f) => f.value.as_str(),
            None if kind == MacroKind::TokioMain => "multi_thread",
            None => "current_thread",
        };
        let mut errors = Errors::default();
        if let (Some(w), "current_thread") = (&self.worker_threads, flavor) {
            errors.push(syn::Error::new(
                w.span,
                format!(
                    "the `worker_threads` option requires the `multi_thread` runtime flavor. \
                     Use `#[{}(flavor = \"multi_thread\")]`",
                    kind.path_name()
                ),
            ));
        }
        if let (Some(p), "multi_thread") = (&self.start_paused, flavor) {
            errors.push(syn::Error::new(
                p.span,
                format!(
                    "the `start_paused` option requires the `current_thread` runtime flavor. \
                     Use `#[{}(flavor = \"current_thread\")]`",
                    kind.path_name()
                ),
            ));
        }
        errors.finish()
    }

    /// The `TokioTestArgs { ... }` struct expression passed to
    /// `__private::test`.
    pub(crate) fn to_test_struct_expr(&self, body_end: &TokenStream2) -> TokenStream2 {
        let krate = &self.krate;
        let flavor = opt(&self.flavor, str_lit);
        let worker_threads = opt(&self.worker_threads, |v| int_lit(v, "usize"));
        let start_paused = opt(&self.start_paused, bool_lit);
        let seeds = opt(&self.seeds, |v| int_lit(v, "u64"));
        let explore = opt(&self.explore, |v| int_lit(v, "u64"));
        let max_runs = opt(&self.max_runs, |v| int_lit(v, "usize"));
        quote! {
            #krate::__private::TokioTestArgs {
                flavor: #flavor,
                worker_threads: #worker_threads,
                start_paused: #start_paused,
                seeds: #seeds,
                explore: #explore,
                max_runs: #max_runs,
                body_end: #body_end,
                ..#krate::__private::TokioTestArgs::DEFAULT
            }
        }
    }
}

/// Collects several errors into one combined [`syn::Error`].
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn push_result(&mut self, result: syn::Result<()>) {
        if let Err(e) = result {
            self.push(e);
        }
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Splits the attribute into `(name, value)` pairs, checking that every
/// entry is `name = value`, that the name is known to `kind` and that no name
/// appears twice. Entries with such problems are reported into `errors` and
/// left out; a list that does not even parse is a hard error.
fn name_values(
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
fn example(name: &str) -> &'static str {
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
fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Formats string values as "\"a\", \"b\"".
fn quoted_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Only reached if a name is in `known()` but has no arm in the caller's
/// `match`; reports it instead of panicking.
fn unreachable_known(name: &Ident) -> syn::Result<()> {
    Err(syn::Error::new(
        name.span(),
        format!("argument `{name}` is not supported by this macro"),
    ))
}

/// Strips the invisible groups that `macro_rules!` wraps around captured
/// fragments, so `#[cancelsim::test(seeds = $n)]` works.
fn strip_groups(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => strip_groups(&g.expr),
        other => other,
    }
}

/// An integer literal `>= min`, with no suffix or the `suffix` of the field
/// it fills (`u64` / `usize`).
fn int_arg(name: &Ident, value: &Expr, min: u64, suffix: &str) -> syn::Result<Val<u64>> {
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
fn str_arg(name: &str, value: &Expr, example: &str) -> syn::Result<LitStr> {
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
fn one_of_arg(
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
fn scheduler_arg(value: &Expr) -> syn::Result<Val<String>> {
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
fn bool_arg(name: &Ident, value: &Expr) -> syn::Result<Val<bool>> {
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
fn crate_arg(value: &Expr) -> syn::Result<Path> {
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
fn opt<T>(value: &Option<Val<T>>, lit: impl Fn(&Val<T>) -> TokenStream2) -> TokenStream2 {
    match value {
        Some(v) => {
            let lit = lit(v);
            quote!(::core::option::Option::Some(#lit))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// `16u64` / `500usize`, spanned at the user's literal.
fn int_lit(v: &Val<u64>, suffix: &str) -> TokenStream2 {
    LitInt::new(&format!("{}{suffix}", v.value), v.span).into_token_stream()
}

/// The validated string, spanned at the user's literal.
fn str_lit(v: &Val<String>) -> TokenStream2 {
    LitStr::new(&v.value, v.span).into_token_stream()
}

/// `true` / `false`, spanned at the user's literal.
fn bool_lit(v: &Val<bool>) -> TokenStream2 {
    LitBool::new(v.value, v.span).into_token_stream()
}
