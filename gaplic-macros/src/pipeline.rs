//! The macro's steps in order, on `proc_macro2` tokens (so benches can run
//! them outside a compiler).

use proc_macro2::TokenStream;

use crate::{check, ctxt, expand, fallback, lower, parse};

/// `gobj!`: parse, check, then lower and expand; on errors, the errors and
/// the fallback items.
pub fn gobj(tokens: TokenStream) -> TokenStream {
    let input: parse::Input = match syn::parse2(tokens) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    let cx = ctxt::Ctxt::new();
    check::check(&cx, &input);
    match cx.check() {
        Ok(()) => expand::expand(&lower::lower(&input)),
        Err(errors) => {
            let mut out = errors.into_compile_error();
            out.extend(fallback::fallback(&input));
            out
        }
    }
}
