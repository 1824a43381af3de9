//! Expansion: the `Ir` into Rust items, one function per item.
//!
//! Generated code names the runtime only through `::gaplic::__private`, so
//! a user crate needs nothing but `gaplic` in its `Cargo.toml`.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Fields, Ident, Visibility};

use crate::lower::Ir;
use crate::text::{expr_text, type_text};

/// Where generated code finds the runtime: `<root>::__private`.
pub fn private(root: &syn::Path) -> TokenStream {
    quote!(#root::__private)
}

/// Every item of a checked gclass.
pub fn expand(ir: &Ir) -> TokenStream {
    let gclass = &ir.item.ident;
    let vis = &ir.item.vis;
    let events: Vec<(Ident, String)> = ir
        .events
        .iter()
        .map(|e| (e.name.clone(), e.doc.clone()))
        .collect();
    let states: Vec<(Ident, String)> = ir
        .states
        .iter()
        .map(|s| (s.name.clone(), s.doc.clone()))
        .collect();
    let item = struct_item(ir);
    let event_enum = symbol_enum(&ir.private, gclass, vis, &ir.event_enum, "event", &events);
    let state_enum = symbol_enum(&ir.private, gclass, vis, &ir.state_enum, "state", &states);
    let gclass_impl = gclass_impl(ir);
    let event_key = event_key_impl(ir);
    quote! {
        #item
        #event_enum
        #state_enum
        #gclass_impl
        #event_key
    }
}

/// The user's struct with the gclass's tables added to its rustdoc, after
/// the user's own doc comment, whose first line stays the summary.
fn struct_item(ir: &Ir) -> TokenStream {
    let mut item = ir.item.clone();
    item.attrs.extend(
        tables_doc(ir)
            .into_iter()
            .map(|line| syn::parse_quote!(#[doc = #line])),
    );
    item.into_token_stream()
}

/// A `<Gclass>Event` or `<Gclass>State` enum and its `Symbol` impl.
pub fn symbol_enum(
    private: &TokenStream,
    gclass: &Ident,
    vis: &Visibility,
    name: &Ident,
    what: &str,
    variants: &[(Ident, String)],
) -> TokenStream {
    let enum_doc = format!("The {what}s of [`{gclass}`], in declaration order.");
    let docs = variants.iter().map(|(variant, doc)| {
        if doc.is_empty() {
            format!("The {what} `{variant}` of [`{gclass}`].")
        } else {
            doc.clone()
        }
    });
    let idents: Vec<&Ident> = variants.iter().map(|(v, _)| v).collect();
    let texts: Vec<String> = idents.iter().map(ToString::to_string).collect();
    let indices = 0..variants.len();
    quote! {
        #[doc = #enum_doc]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        #[allow(non_camel_case_types)]
        #vis enum #name {
            #(
                #[doc = #docs]
                #idents,
            )*
        }

        impl #private::Symbol for #name {
            const ALL: &'static [Self] = &[#(Self::#idents),*];

            #[inline]
            fn name(self) -> &'static str {
                match self {
                    #(Self::#idents => #texts,)*
                }
            }

            #[inline]
            fn index(self) -> usize {
                match self {
                    #(Self::#idents => #indices,)*
                }
            }

            fn from_name(name: &str) -> ::core::option::Option<Self> {
                match name {
                    #(#texts => ::core::option::Option::Some(Self::#idents),)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    }
}

/// The event enum as an `EventKey`, so it can address a gobj of this
/// gclass with no string compare.
fn event_key_impl(ir: &Ir) -> TokenStream {
    let private = &ir.private;
    let gclass = &ir.item.ident;
    let event_enum = &ir.event_enum;
    quote! {
        impl ::core::convert::From<#event_enum> for #private::EventKey {
            fn from(event: #event_enum) -> Self {
                #private::EventKey::typed::<#gclass>(event)
            }
        }
    }
}

/// `impl Gclass for <Gclass>`.
fn gclass_impl(ir: &Ir) -> TokenStream {
    let private = &ir.private;
    let gclass = &ir.item.ident;
    let event_enum = &ir.event_enum;
    let state_enum = &ir.state_enum;
    let initial = &ir.states[0].name;
    let meta = meta(ir);
    let hooks = hooks(ir);
    let create = create_fn(ir);
    let dispatch = dispatch_fn(ir);
    let attr_fns = attr_fns(ir);
    let is_input = event_set_fn(ir, "is_input", |e| e.input);
    let checks_payload = event_set_fn(ir, "checks_payload", |e| !e.params.is_empty());
    quote! {
        impl #private::Gclass for #gclass {
            type Event = #event_enum;
            type State = #state_enum;

            const META: &'static #private::GclassMeta = &#meta;
            const INITIAL_STATE: #state_enum = #state_enum::#initial;
            const HOOKS: #private::Hooks<Self> = #hooks;

            #create

            #dispatch

            #attr_fns

            #is_input

            #checks_payload
        }
    }
}

/// A `Gclass` method telling whether an event is one of those `pick`
/// selects: a `matches!` rustc folds away, so the hot path reads no table.
fn event_set_fn(
    ir: &Ir,
    method: &str,
    pick: impl Fn(&crate::lower::EventIr) -> bool,
) -> TokenStream {
    let method = format_ident!("{method}");
    let event_enum = &ir.event_enum;
    let picked: Vec<&Ident> = ir
        .events
        .iter()
        .filter(|e| pick(e))
        .map(|e| &e.name)
        .collect();
    let body = if picked.is_empty() {
        quote!(false)
    } else {
        quote!(::core::matches!(event, #(#event_enum::#picked)|*))
    };
    quote! {
        #[inline(always)]
        fn #method(event: #event_enum) -> bool {
            #body
        }
    }
}

/// The `GclassMeta` value, built with the metadata types' constructors.
fn meta(ir: &Ir) -> TokenStream {
    let private = &ir.private;
    let name = ir.item.ident.to_string();
    let doc = &ir.doc;
    let events = ir.events.iter().map(|e| {
        let name = e.name.to_string();
        let doc = &e.doc;
        let attributes = event_attributes(private, e);
        let params = e.params.iter().map(|p| {
            let key = p.name.to_string();
            let ty = &p.ty;
            let ty_text = type_text(ty);
            let check = quote_spanned!(ty.span()=> #private::Kw::check::<#ty>);
            quote!(#private::ParamMeta::new(#key, #ty_text, #check))
        });
        quote! {
            #private::EventMeta::new(#name, #doc, #attributes, &[#(#params),*])
        }
    });
    let states = ir.states.iter().map(|s| {
        let name = s.name.to_string();
        let doc = &s.doc;
        quote!(#private::StateMeta::new(#name, #doc))
    });
    let rows = ir.rows.iter().map(|row| {
        let state = ir.states[row.state].name.to_string();
        let event = ir.events[row.event].name.to_string();
        let action = option_text(row.cell.action.map(|a| ir.actions[a].to_string()));
        let next = option_text(row.cell.next.map(|n| ir.states[n].name.to_string()));
        quote!(#private::RowMeta::new(#state, #event, #action, #next))
    });
    let attrs = ir.attrs.iter().map(|a| {
        let name = a.name.to_string();
        let ty = type_text(&a.ty);
        let default = default_text(a);
        let doc = &a.doc;
        let rules = rules_text(a);
        quote!(#private::AttrMeta::new(#name, #ty, #default, #doc, #rules))
    });
    quote! {
        #private::GclassMeta::new(
            #name,
            #doc,
            &[#(#events),*],
            &[#(#states),*],
            &[#(#rows),*],
            &[#(#attrs),*],
        )
    }
}

/// An event's attributes as `EventMeta` bits: `EventMeta::INPUT |
/// EventMeta::BOTTOM`, as the declaration reads. Never empty: an event is
/// input, output or both.
fn event_attributes(private: &TokenStream, event: &crate::lower::EventIr) -> TokenStream {
    let bits = [
        (event.input, "INPUT"),
        (event.output, "OUTPUT"),
        (event.top, "TOP"),
        (event.bottom, "BOTTOM"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, bit)| {
        let bit = Ident::new(bit, proc_macro2::Span::call_site());
        quote!(#private::EventMeta::#bit)
    });
    quote!(#(#bits)|*)
}

/// An attr's default as the user wrote it, or `Default::default()`.
/// An attr's rules as the docs and `AttrMeta::rules` show them
/// (`range 1..=100; one of ["a", "b"]; validate check_port`), or `""`.
fn rules_text(attr: &crate::parse::AttrField) -> String {
    let rules = &attr.rules;
    let mut parts = Vec::new();
    if let Some(range) = &rules.range {
        parts.push(format!("range {}", expr_text(range)));
    }
    if let Some(allowed) = &rules.one_of {
        parts.push(format!(
            "one of {}",
            expr_text(&syn::Expr::Array(allowed.clone()))
        ));
    }
    if let Some(validate) = &rules.validate {
        parts.push(format!(
            "validate {}",
            crate::text::tokens_text(validate.to_token_stream())
        ));
    }
    parts.join("; ")
}

fn default_text(attr: &crate::parse::AttrField) -> String {
    attr.default
        .as_ref()
        .map_or_else(|| "Default::default()".to_owned(), expr_text)
}

fn option_text(text: Option<String>) -> TokenStream {
    match text {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    }
}

/// The `Hooks` value; each hook is checked against its signature by a
/// typed constant spanned on its name, so a missing method or a wrong
/// signature is reported there.
fn hooks(ir: &Ir) -> TokenStream {
    let private = &ir.private;
    let hook = |hook: &Option<Ident>, signature: TokenStream| match hook {
        Some(name) => {
            let gclass = Ident::new(&ir.item.ident.to_string(), name.span());
            let konst = Ident::new(&name.to_string().to_uppercase(), name.span());
            quote_spanned! {name.span()=> {
                const #konst: #private::#signature<#gclass> = #gclass::#name;
                ::core::option::Option::Some(#konst)
            }}
        }
        None => quote!(::core::option::Option::None),
    };
    let start_up = hook(&ir.start_up, quote!(StartUp));
    let go_out = hook(&ir.go_out, quote!(GoOut));
    quote!(#private::Hooks { start_up: #start_up, go_out: #go_out })
}

/// `create`: attrs from the keywords or their defaults, each checked
/// against its rules, other fields from `Default`.
fn create_fn(ir: &Ir) -> TokenStream {
    let private = &ir.private;
    let gclass = ir.item.ident.to_string();
    // Attrs are read into locals first, in declaration order, so their
    // rules run before anything is built; the locals are prefixed so no
    // field name can shadow `kw`.
    let reads = ir.attrs.iter().map(|attr| {
        let ty = &attr.ty;
        let key = attr.name.to_string();
        let local = format_ident!("__attr_{}", attr.name);
        // The same call as in `set_attr`, so a type that cannot be read
        // from a `Value` is one error, not two.
        let read = quote_spanned!(ty.span()=> #private::attr_from::<#ty>(value, #gclass, #key)?);
        let default = attr_default(attr);
        let checks = attr_checks(ir, attr, &local);
        quote! {
            let #local: #ty = match kw.value(#key) {
                ::core::option::Option::Some(value) => #read,
                ::core::option::Option::None => #default,
            };
            #checks
        }
    });
    let body = match &ir.item.fields {
        Fields::Named(fields) => {
            let inits = fields.named.iter().map(|field| {
                let name = field.ident.as_ref().expect("named field");
                if ir.attrs.iter().any(|a| a.name == *name) {
                    let local = format_ident!("__attr_{}", name);
                    quote!(#name: #local)
                } else {
                    let init = default_of(&field.ty);
                    quote!(#name: #init)
                }
            });
            quote!(Self { #(#inits),* })
        }
        Fields::Unnamed(fields) => {
            let inits = fields.unnamed.iter().map(|f| default_of(&f.ty));
            quote!(Self(#(#inits),*))
        }
        Fields::Unit => quote!(Self),
    };
    quote! {
        fn create(kw: &#private::Kw) -> ::core::result::Result<Self, #private::GobjError> {
            #private::check_attr_names(kw, <Self as #private::Gclass>::META)?;
            #(#reads)*
            ::core::result::Result::Ok(#body)
        }
    }
}

/// The statements that check `value` (a local holding the attr's value)
/// against the attr's rules, returning the error of the first it breaks.
fn attr_checks(ir: &Ir, attr: &crate::parse::AttrField, value: &Ident) -> TokenStream {
    let private = &ir.private;
    let gclass = ir.item.ident.to_string();
    let key = attr.name.to_string();
    let rules = &attr.rules;
    let range = rules.range.as_ref().map(|range| {
        let text = expr_text(range);
        quote_spanned! {range.span()=>
            #private::check_range(&#value, #range, #gclass, #key, #text)?;
        }
    });
    let one_of = rules.one_of.as_ref().map(|allowed| {
        let text = format!("one of {}", expr_text(&syn::Expr::Array(allowed.clone())));
        quote_spanned! {allowed.span()=>
            #private::check_one_of(&#value, &#allowed, #gclass, #key, #text)?;
        }
    });
    let validate = rules.validate.as_ref().map(|validate| {
        quote_spanned! {validate.span()=>
            #private::check_with(&#value, #validate, #gclass, #key)?;
        }
    });
    quote!(#range #one_of #validate)
}

/// `attr`, `set_attr` and `reset_attr`: the attrs read, written (checked as
/// at creation) and reset by name.
fn attr_fns(ir: &Ir) -> TokenStream {
    let private = &ir.private;
    let gclass = ir.item.ident.to_string();
    let value = format_ident!("__attr_value");
    let names: Vec<String> = ir.attrs.iter().map(|a| a.name.to_string()).collect();
    let fields: Vec<&Ident> = ir.attrs.iter().map(|a| &a.name).collect();
    let reads = ir.attrs.iter().map(|a| {
        let field = &a.name;
        quote_spanned!(a.ty.span()=> #private::attr_value(&self.#field))
    });
    let writes = ir.attrs.iter().map(|a| {
        let ty = &a.ty;
        let key = a.name.to_string();
        let field = &a.name;
        let checks = attr_checks(ir, a, &value);
        let read = quote_spanned!(ty.span()=> #private::attr_from::<#ty>(value, #gclass, #key)?);
        quote! {{
            let #value: #ty = #read;
            #checks
            self.#field = #value;
            ::core::result::Result::Ok(())
        }}
    });
    let defaults = ir.attrs.iter().map(attr_default);
    quote! {
        fn attr(&self, name: &str) -> ::core::option::Option<#private::Value> {
            match name {
                #(#names => ::core::option::Option::Some(#reads),)*
                _ => ::core::option::Option::None,
            }
        }

        fn set_attr(
            &mut self,
            name: &str,
            value: &#private::Value,
        ) -> ::core::result::Result<(), #private::GobjError> {
            match name {
                #(#names => #writes)*
                _ => ::core::result::Result::Err(#private::unknown_attr(#gclass, name)),
            }
        }

        fn reset_attr(&mut self, name: &str) -> ::core::result::Result<(), #private::GobjError> {
            match name {
                #(#names => {
                    self.#fields = #defaults;
                    ::core::result::Result::Ok(())
                })*
                _ => ::core::result::Result::Err(#private::unknown_attr(#gclass, name)),
            }
        }
    }
}

/// `Default::default()`, spanned on the field's type.
fn default_of(ty: &syn::Type) -> TokenStream {
    quote_spanned!(ty.span()=> <#ty as ::core::default::Default>::default())
}

/// An attr's default value, typed as the attr and spanned on the default,
/// so a default of the wrong type is reported there.
fn attr_default(attr: &crate::parse::AttrField) -> TokenStream {
    let ty = &attr.ty;
    match &attr.default {
        None => default_of(ty),
        Some(default) => {
            let value = match default {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(_),
                    ..
                }) if !matches!(ty, syn::Type::Reference(_)) => {
                    quote_spanned!(default.span()=> ::core::convert::From::from(#default))
                }
                _ => default.to_token_stream(),
            };
            quote_spanned!(default.span()=> {
                let default: #ty = #value;
                default
            })
        }
    }
}

/// `dispatch`: a `match` on the state, then on the event; each arm stores
/// the next state and calls the action.
fn dispatch_fn(ir: &Ir) -> TokenStream {
    let private = &ir.private;
    let gclass = &ir.item.ident;
    let event_enum = &ir.event_enum;
    let state_enum = &ir.state_enum;
    let action_consts: Vec<Ident> = ir
        .actions
        .iter()
        .enumerate()
        .map(|(i, action)| {
            let upper = action.to_string().to_uppercase();
            let taken = ir.actions[..i]
                .iter()
                .any(|a| a.to_string().to_uppercase() == upper);
            if taken {
                format_ident!("{}_{}", upper, i, span = action.span())
            } else {
                Ident::new(&upper, action.span())
            }
        })
        .collect();
    let checks = ir
        .actions
        .iter()
        .zip(&action_consts)
        .map(|(action, konst)| {
            // Every token at the action's name, so rustc reports a missing
            // method or a wrong signature there.
            let gclass = Ident::new(&gclass.to_string(), action.span());
            quote_spanned! {action.span()=>
                const #konst: #private::Action<#gclass> = #gclass::#action;
            }
        });
    let state_arms = ir.states.iter().enumerate().map(|(s, state)| {
        let state_name = &state.name;
        let cells = &ir.cells[s];
        let event_arms = cells.iter().enumerate().filter_map(|(e, cell)| {
            let cell = (*cell)?;
            let event_name = &ir.events[e].name;
            let next = cell.next.map(|n| {
                let next = &ir.states[n].name;
                quote!(cx.set_state(#state_enum::#next);)
            });
            let call = match cell.action {
                Some(a) => {
                    let konst = &action_consts[a];
                    quote!(#konst(self, cx, ev))
                }
                None => quote!(::core::result::Result::Ok(#private::Value::Null)),
            };
            Some(quote! {
                #event_enum::#event_name => {
                    #next
                    #call
                }
            })
        });
        let refuse = cells
            .iter()
            .any(Option::is_none)
            .then(|| quote!(_ => ::core::result::Result::Err(cx.not_accepted(event)),));
        quote! {
            #state_enum::#state_name => match event {
                #(#event_arms)*
                #refuse
            },
        }
    });
    quote! {
        #[inline(always)]
        fn dispatch(
            &mut self,
            cx: &mut #private::Cx<'_, Self>,
            event: #event_enum,
            ev: &#private::Event,
        ) -> #private::Ret {
            // The actions, each checked against the action signature here.
            #(#checks)*
            match cx.state() {
                #(#state_arms)*
            }
        }
    }
}

/// The struct's generated documentation: events, states, machine, attrs,
/// as lines that follow the user's doc comment. Without one, a first line
/// says what the struct is, so rustdoc's summary is not a table's heading.
fn tables_doc(ir: &Ir) -> Vec<String> {
    let mut lines = Vec::new();
    let first_line = |doc: &str| escape(doc.lines().next().unwrap_or(""));
    if ir.doc.is_empty() {
        lines.push(format!(
            "The gclass `{}`: its events, states and machine follow.",
            ir.item.ident
        ));
    }
    lines.push(String::new());
    lines.push("# Events".into());
    lines.push(String::new());
    lines.push("| event | direction | side | payload | description |".into());
    lines.push("|---|---|---|---|---|".into());
    for e in &ir.events {
        let direction = match (e.input, e.output) {
            (true, true) => "input, output",
            (true, false) => "input",
            _ => "output",
        };
        let side = if e.top {
            "top"
        } else if e.bottom {
            "bottom"
        } else {
            ""
        };
        let payload: Vec<String> = e
            .params
            .iter()
            .map(|p| code(&format!("{}: {}", p.name, type_text(&p.ty))))
            .collect();
        lines.push(format!(
            "| `{}` | {direction} | {side} | {} | {} |",
            e.name,
            payload.join(", "),
            first_line(&e.doc)
        ));
    }
    lines.push(String::new());
    lines.push("# States".into());
    lines.push(String::new());
    lines.push("| state | description |".into());
    lines.push("|---|---|".into());
    for (i, s) in ir.states.iter().enumerate() {
        let initial = if i == 0 { " (initial)" } else { "" };
        lines.push(format!(
            "| `{}`{initial} | {} |",
            s.name,
            first_line(&s.doc)
        ));
    }
    lines.push(String::new());
    lines.push("# Machine".into());
    lines.push(String::new());
    lines.push("| state | event | action | next state |".into());
    lines.push("|---|---|---|---|".into());
    for row in &ir.rows {
        let action = row
            .cell
            .action
            .map_or_else(|| "-".to_owned(), |a| format!("`{}`", ir.actions[a]));
        let next = row.cell.next.map_or_else(
            || "(stays)".to_owned(),
            |n| format!("`{}`", ir.states[n].name),
        );
        lines.push(format!(
            "| `{}` | `{}` | {action} | {next} |",
            ir.states[row.state].name, ir.events[row.event].name
        ));
    }
    if !ir.attrs.is_empty() {
        lines.push(String::new());
        lines.push("# Attrs".into());
        lines.push(String::new());
        lines.push("| attr | type | default | description |".into());
        lines.push("|---|---|---|---|".into());
        for a in &ir.attrs {
            let rules = rules_text(a);
            let doc = if rules.is_empty() {
                first_line(&a.doc)
            } else {
                format!("{} ({})", first_line(&a.doc), code(&rules))
                    .trim()
                    .to_owned()
            };
            lines.push(format!(
                "| `{}` | {} | {} | {doc} |",
                a.name,
                code(&type_text(&a.ty)),
                code(&default_text(a)),
            ));
        }
    }
    lines
}

/// Makes `text` safe inside a Markdown table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

/// `text` as inline code in a Markdown table cell: fenced by more
/// backticks than it holds in a row (a string default may hold some), with
/// its `|` escaped. The text is a type or an expression, which never starts
/// or ends with a backtick, so the fence needs no padding.
fn code(text: &str) -> String {
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    format!("{fence}{}{fence}", escape(text))
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    /// The items `gobj!` generates for `tokens`, which must be valid.
    fn expanded(tokens: TokenStream) -> syn::File {
        let input: crate::parse::Input = syn::parse2(tokens).expect("parses");
        let cx = crate::ctxt::Ctxt::new();
        crate::check::check(&cx, &input);
        cx.check().expect("checks");
        syn::parse2(expand(&crate::lower::lower(&input))).expect("valid items")
    }

    /// The `#[doc]` lines of the generated struct, in order.
    fn struct_doc(file: &syn::File) -> Vec<String> {
        let item = file
            .items
            .iter()
            .find_map(|item| match item {
                syn::Item::Struct(item) => Some(item),
                _ => None,
            })
            .expect("a struct");
        crate::parse::doc_of(&item.attrs)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn timer() -> TokenStream {
        quote! {
            /// A timer.
            ///
            /// It fires once.
            #[derive(Debug)]
            pub struct Timer {
                /// Seconds until it fires; negative: disarmed.
                #[attr(default = -1.0)]
                seconds: f64,
                /// Sizes.
                #[attr(default = vec![1, -2])]
                sizes: Vec<i64>,
                /// Marker.
                #[attr(default = "`a|b`")]
                marker: String,
            }
            events { EV_SET: input top { seconds: Option<f64> } }
            states { ST_IDLE }
            machine { ST_IDLE { EV_SET } }
        }
    }

    #[test]
    fn the_user_doc_comes_before_the_tables() {
        let doc = struct_doc(&expanded(timer()));
        assert_eq!(doc[..3], ["A timer.", "", "It fires once."]);
        assert_eq!(doc[3..6], ["", "# Events", ""]);
        let headings: Vec<&str> = doc
            .iter()
            .filter(|line| line.starts_with('#'))
            .map(String::as_str)
            .collect();
        assert_eq!(headings, ["# Events", "# States", "# Machine", "# Attrs"]);
    }

    #[test]
    fn an_undocumented_gclass_gets_a_summary_line() {
        let doc = struct_doc(&expanded(quote! {
            struct Bare {}
            events { EV_GO }
            states { ST_ONE }
            machine { ST_ONE { EV_GO } }
        }));
        assert_eq!(
            doc[..3],
            [
                "The gclass `Bare`: its events, states and machine follow.",
                "",
                "# Events"
            ]
        );
    }

    #[test]
    fn attr_defaults_are_shown_as_written() {
        let file = expanded(timer());
        let doc = struct_doc(&file);
        let rows: Vec<&str> = doc
            .iter()
            .skip_while(|line| *line != "# Attrs")
            .skip(4)
            .map(String::as_str)
            .collect();
        assert_eq!(
            rows,
            [
                "| `seconds` | `f64` | `-1.0` | Seconds until it fires; negative: disarmed. |",
                "| `sizes` | `Vec<i64>` | `vec![1, -2]` | Sizes. |",
                "| `marker` | `String` | ``\"`a\\|b`\"`` | Marker. |",
            ]
        );
        let event = doc
            .iter()
            .find(|line| line.starts_with("| `EV_SET`"))
            .expect("the event's row");
        assert_eq!(
            event,
            "| `EV_SET` | input | top | `seconds: Option<f64>` |  |"
        );
        // The metadata holds the same text.
        let items = file.to_token_stream().to_string();
        assert!(items.contains("AttrMeta :: new (\"seconds\" , \"f64\" , \"-1.0\""));
        assert!(items.contains("(\"sizes\" , \"Vec<i64>\" , \"vec![1, -2]\""));
    }

    #[test]
    fn metadata_is_built_through_the_runtime_path() {
        let mut tokens = timer();
        tokens = quote!(#[gobj(crate = "crate::rt")] #tokens);
        let items = expanded(tokens).to_token_stream().to_string();
        assert!(items.contains("crate :: rt :: __private :: GclassMeta :: new (\"Timer\""));
        assert!(items.contains(
            "(\"EV_SET\" , \"\" , crate :: rt :: __private :: EventMeta :: INPUT | \
             crate :: rt :: __private :: EventMeta :: TOP ,"
        ));
        assert!(!items.contains(":: gaplic ::"));
    }
}
