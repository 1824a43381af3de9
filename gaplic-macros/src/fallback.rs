//! What `gobj!` emits beside its errors: the struct, the enums of the names
//! that could be read, and a placeholder `Gclass` impl. The user's own
//! code (impl blocks, uses of the enums) then still type-checks, so the
//! build shows the table's errors instead of a pile of follow-on ones.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

use crate::check::Tables;
use crate::expand::{private, symbol_enum};
use crate::parse::Input;

pub fn fallback(input: &Input) -> TokenStream {
    let tables = Tables::of(input);
    let item = &input.item;
    let gclass = &item.ident;
    let vis = &item.vis;
    let events = unique(tables.events.iter().map(|e| &e.name));
    let states = unique(tables.states.iter().map(|s| &s.name));
    let event_enum = format_ident!("{}Event", gclass);
    let state_enum = format_ident!("{}State", gclass);
    let private = private(&input.root);
    let events_tokens = symbol_enum(&private, gclass, vis, &event_enum, "event", &events);
    let states_tokens = symbol_enum(&private, gclass, vis, &state_enum, "state", &states);
    let (state_ty, initial) = match states.first() {
        Some((first, _)) => (quote!(#state_enum), quote!(#state_enum::#first)),
        None => (
            quote!(#private::Unchecked),
            quote!(#private::Unchecked::Unchecked),
        ),
    };
    let name = gclass.to_string();
    // Generics are an error already; the placeholder impl takes them as
    // they are, so the user's own impl blocks still type-check.
    let (impl_generics, ty_generics, where_clause) = item.generics.split_for_impl();
    let gclass_impl = quote! {
        impl #impl_generics #private::Gclass for #gclass #ty_generics #where_clause {
            type Event = #event_enum;
            type State = #state_ty;
            const META: &'static #private::GclassMeta =
                &#private::GclassMeta::new(#name, "", &[], &[], &[], &[]);
            const INITIAL_STATE: #state_ty = #initial;
            const HOOKS: #private::Hooks<Self> = #private::Hooks::NONE;
            fn create(_: &#private::Kw) -> ::core::result::Result<Self, #private::GobjError> {
                ::core::unreachable!()
            }
            fn dispatch(
                &mut self,
                _: &mut #private::Cx<'_, Self>,
                _: #event_enum,
                _: &#private::Event,
            ) -> #private::Ret {
                ::core::unreachable!()
            }
        }
    };
    quote! {
        #item
        #events_tokens
        #states_tokens
        #gclass_impl
    }
}

/// The names, each once, in order, without docs.
fn unique<'a>(names: impl Iterator<Item = &'a Ident>) -> Vec<(Ident, String)> {
    let mut seen = HashSet::new();
    names
        .filter(|n| seen.insert(n.to_string()))
        .map(|n| (n.clone(), String::new()))
        .collect()
}
