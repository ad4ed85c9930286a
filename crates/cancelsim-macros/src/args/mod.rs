//! Parsing and validation of the macros' arguments.
//!
//! Every macro takes a comma-separated list of `name = value` pairs. The list
//! is parsed as `Punctuated<Meta, Token![,]>` so that a bare `name` or a
//! `name(...)` gets a precise error instead of a generic parse failure. All
//! problems found in one list are reported together (combined
//! [`syn::Error`]s), each at the span of the offending token.

use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::Path;

use crate::duration::duration_arg;

mod values;

use values::*;

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

    /// Did the attribute ask for the current-thread flavor?
    pub(crate) fn is_current_thread(&self) -> bool {
        self.flavor
            .as_ref()
            .is_some_and(|flavor| flavor.value == "current_thread")
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
