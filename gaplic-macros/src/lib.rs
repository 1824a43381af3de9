//! The `gobj!` macro of gaplic.
//!
//! Use it through the `gaplic` crate, which documents it: this crate only
//! holds the implementation, in four steps that each have a module, run in
//! order by `pipeline`: `parse` reads the tokens, `check` applies every
//! rule and reports all the errors at once, `lower` resolves names to
//! indices, `expand` writes the items (`text` prints types and defaults
//! back as source for the metadata and the docs). On errors, `fallback`
//! emits the struct and placeholder items so the errors are not buried
//! under follow-on ones.
#![forbid(unsafe_code)]

mod check;
mod ctxt;
mod expand;
mod fallback;
mod lower;
mod parse;
mod pipeline;
mod text;

use proc_macro::TokenStream;

/// Declares a gclass: a struct plus its events, states and machine. See
/// the `gaplic` crate for the guide.
#[proc_macro]
pub fn gobj(input: TokenStream) -> TokenStream {
    pipeline::gobj(input.into()).into()
}
