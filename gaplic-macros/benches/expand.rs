//! The `gobj!` macro's own work on a large gclass: 100 states x 100 events,
//! every state with a row for every event (10,000 rows), a handful of
//! distinct actions, next states varying.
//!
//! A proc-macro crate's functions cannot be called from its benches, so the
//! macro's modules are compiled into this bench from their source files and
//! run through the same pipeline as the macro (`src/pipeline.rs`): parse,
//! check, lower, expand.
//!
//! The baseline, timed in the same run, is `syn::parse2::<syn::File>` of the
//! macro's output: what merely parsing that much generated code costs, a
//! lower bound for what the compiler does with it after the macro returns.
//! After criterion's report, both are timed again with a best-of-N loop and
//! the ratio is printed as `ratio expand/100x100 macro/baseline = ...`.

// Cargo builds this bench with `--cfg test` but without the test harness,
// so the `#[cfg(test)] mod tests` of `expand`, `lower` and `text` are
// compiled with their `#[test]` functions removed, leaving unused imports
// and helpers.
#[path = "../src/check.rs"]
mod check;
#[path = "../src/ctxt.rs"]
mod ctxt;
#[path = "../src/expand.rs"]
#[allow(unused_imports, dead_code)]
mod expand;
#[path = "../src/fallback.rs"]
mod fallback;
#[path = "../src/lower.rs"]
#[allow(dead_code)]
mod lower;
#[path = "../src/parse.rs"]
mod parse;
#[path = "../src/pipeline.rs"]
mod pipeline;
#[path = "../src/text.rs"]
#[allow(unused_imports, dead_code)]
mod text;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, SamplingMode};
use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};

const STATES: usize = 100;
const EVENTS: usize = 100;

/// The distinct actions the rows use.
const ACTIONS: [&str; 5] = ["ac_open", "ac_read", "ac_write", "ac_retry", "ac_close"];

/// Timed runs per side in the best-of-N ratio measurement.
const RATIO_ROUNDS: usize = 10;

/// The tokens of a `gobj!` invocation with `STATES` states and `EVENTS`
/// events, every state accepting every event. The row of event `e` in
/// state `s` calls action `(s + e) % 5` and moves to state
/// `(7 * s + 3 * e + 1) % STATES`, except that every 10th row keeps the
/// state and every 25th has no action.
fn big_gclass() -> TokenStream {
    let events: Vec<_> = (0..EVENTS).map(|e| format_ident!("EV_{:03}", e)).collect();
    let states: Vec<_> = (0..STATES).map(|s| format_ident!("ST_{:03}", s)).collect();
    let actions: Vec<_> = ACTIONS.iter().map(|a| format_ident!("{}", a)).collect();
    let entries = states.iter().enumerate().map(|(s, state)| {
        let rows = events.iter().enumerate().map(|(e, event)| {
            let row = s * EVENTS + e;
            let action = (!row.is_multiple_of(25)).then(|| {
                let action = &actions[(s + e) % actions.len()];
                quote!(=> #action)
            });
            let next = (!row.is_multiple_of(10)).then(|| {
                let next = &states[(7 * s + 3 * e + 1) % STATES];
                quote!(-> #next)
            });
            quote!(#event #action #next)
        });
        quote!(#state { #(#rows),* })
    });
    quote! {
        /// A gclass with 100 states and 100 events.
        pub struct Big {
            /// How many times to retry.
            #[attr(default = 3)]
            retries: u32,
            count: u64,
        }
        events {
            #(
                /// An event.
                #events: input,
            )*
        }
        states {
            #(
                /// A state.
                #states,
            )*
        }
        machine {
            #(#entries)*
        }
        hooks { start_up }
    }
}

/// Best-of-`RATIO_ROUNDS` time of `f`, given a fresh copy of `input` each
/// time (the copy and the drop of the result are not timed).
fn best_of<T>(input: &TokenStream, mut f: impl FnMut(TokenStream) -> T) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..RATIO_ROUNDS {
        let tokens = input.clone();
        let start = Instant::now();
        let out = black_box(f(black_box(tokens)));
        best = best.min(start.elapsed());
        drop(out);
    }
    best
}

/// The macro's steps, timed once each, to show where the time goes.
fn phases(input: &TokenStream) {
    let start = Instant::now();
    let parsed: parse::Input = syn::parse2(input.clone()).expect("the gclass parses");
    let parse_time = start.elapsed();
    let start = Instant::now();
    let cx = ctxt::Ctxt::new();
    check::check(&cx, &parsed);
    cx.check().expect("the gclass is valid");
    let check_time = start.elapsed();
    let start = Instant::now();
    let ir = lower::lower(&parsed);
    let lower_time = start.elapsed();
    let start = Instant::now();
    let out = expand::expand(&ir);
    let expand_time = start.elapsed();
    black_box(out);
    println!(
        "phases expand/100x100: parse {parse_time:.2?}, check {check_time:.2?}, lower {lower_time:.2?}, expand {expand_time:.2?}"
    );
}

/// The size of each item of the macro's output, and of the items inside
/// its impls, as `name bytes` pairs: where the output's bulk is.
fn item_sizes(file: &syn::File) -> String {
    let size = |tokens: &dyn ToTokens| tokens.to_token_stream().to_string().len();
    let mut parts = Vec::new();
    for item in &file.items {
        match item {
            syn::Item::Struct(s) => parts.push(format!("struct {} {}", s.ident, size(item))),
            syn::Item::Enum(e) => parts.push(format!("enum {} {}", e.ident, size(item))),
            syn::Item::Impl(i) => {
                let target = match &i.trait_ {
                    Some((_, path, _)) => path.segments.last().map(|s| s.ident.to_string()),
                    None => None,
                };
                let target = target.unwrap_or_else(|| "inherent".to_owned());
                let inner: Vec<String> = i
                    .items
                    .iter()
                    .filter_map(|inner| match inner {
                        syn::ImplItem::Const(c) => Some(format!("{} {}", c.ident, size(inner))),
                        syn::ImplItem::Fn(f) => Some(format!("{} {}", f.sig.ident, size(inner))),
                        _ => None,
                    })
                    .collect();
                parts.push(format!(
                    "impl {target} {} [{}]",
                    size(item),
                    inner.join(", ")
                ));
            }
            other => parts.push(format!("other {}", size(other))),
        }
    }
    parts.join("; ")
}

/// Whether this is a benchmark run (`cargo bench`), not `cargo test
/// --benches` or `--list`, which only check that the benchmarks run.
fn benchmarking() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    has("--bench") && !has("--test") && !has("--list")
}

fn main() {
    let input = big_gclass();
    let output = pipeline::gobj(input.clone());
    // The macro must have accepted the gclass: a compile error would time
    // the error path instead.
    let text = output.to_string();
    assert!(
        !text.contains("compile_error"),
        "the 100x100 gclass was rejected: {}",
        &text[..text.len().min(2000)]
    );
    let file = syn::parse2::<syn::File>(output.clone()).expect("the output parses as a file");
    let dispatch_arms = text.matches("cx . set_state").count();
    println!(
        "expand/100x100: input {} bytes of tokens, output {} bytes of tokens in {} items, {} arms with a next state",
        input.to_string().len(),
        text.len(),
        file.items.len(),
        dispatch_arms
    );
    println!("expand/100x100: output by item: {}", item_sizes(&file));

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(7))
        .configure_from_args();
    let mut group = criterion.benchmark_group("expand/100x100");
    // Runs of a tenth to half a second: one per sample.
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("macro", |b| {
        b.iter_batched(|| input.clone(), pipeline::gobj, BatchSize::LargeInput);
    });
    group.bench_function("baseline_parse_output", |b| {
        b.iter_batched(
            || output.clone(),
            syn::parse2::<syn::File>,
            BatchSize::LargeInput,
        );
    });
    group.finish();
    criterion.final_summary();

    if benchmarking() {
        phases(&input);
        let macro_time = best_of(&input, pipeline::gobj);
        let baseline_time = best_of(&output, syn::parse2::<syn::File>);
        println!(
            "ratio expand/100x100 macro/baseline = {:.2} (macro {:.1} ms, baseline syn::parse2::<syn::File> of the output {:.1} ms)",
            macro_time.as_secs_f64() / baseline_time.as_secs_f64(),
            macro_time.as_secs_f64() * 1e3,
            baseline_time.as_secs_f64() * 1e3
        );
    }
}
