//! Parsing: the tokens of a `gobj!` invocation into a model that keeps
//! every name's span and the source order.
//!
//! Parsing only rejects what cannot be read at all (a name that is not an
//! identifier, a missing brace). Whether the tables make sense is `check`'s
//! job, so that every inconsistency is reported in the same build.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, ItemStruct, Token, Type, braced};

/// The whole invocation: the struct, then the sections in any order.
pub struct Input {
    /// The struct as written, minus the `#[attr]` attributes of its fields
    /// and its own `#[gobj(...)]`.
    pub item: ItemStruct,
    /// The path of the crate that holds the runtime: `::gaplic` unless
    /// `#[gobj(crate = "...")]` says otherwise.
    pub root: syn::Path,
    /// The fields marked `#[attr]`, in order.
    pub attrs: Vec<AttrField>,
    /// `#[attr]` options that were not understood, reported by `check`.
    pub attr_errors: Vec<syn::Error>,
    /// The sections, in source order, repeats included.
    pub sections: Vec<Section>,
}

/// One `name { ... }` section after the struct.
pub enum Section {
    Events(Ident, Vec<EventDecl>),
    States(Ident, Vec<StateDecl>),
    Machine(Ident, Vec<MachineEntry>),
    Hooks(Ident, Vec<Ident>),
}

impl Section {
    /// The section's keyword, for spans.
    pub fn keyword(&self) -> &Ident {
        match self {
            Section::Events(k, _)
            | Section::States(k, _)
            | Section::Machine(k, _)
            | Section::Hooks(k, _) => k,
        }
    }
}

/// `/// doc` `EV_NAME: attr attr { key: Type, ... },`
pub struct EventDecl {
    pub doc: String,
    pub name: Ident,
    /// The words after the colon (`input`, `output`, `top`, `bottom`),
    /// unchecked.
    pub attrs: Vec<Ident>,
    /// Declared payload keys.
    pub params: Vec<Param>,
}

/// `key: Type` in an event's payload declaration.
#[derive(Clone)]
pub struct Param {
    pub name: Ident,
    pub ty: Type,
}

/// `/// doc` `ST_NAME,`
pub struct StateDecl {
    pub doc: String,
    pub name: Ident,
}

/// `ST_NAME { rows }` in the machine.
pub struct MachineEntry {
    pub state: Ident,
    pub rows: Vec<Row>,
}

/// `EV_NAME => action -> ST_NEXT,` with the action and the next state each
/// optional.
pub struct Row {
    pub event: Ident,
    pub action: Option<Ident>,
    pub next: Option<Ident>,
}

/// A struct field marked `#[attr]`.
#[derive(Clone)]
pub struct AttrField {
    pub name: Ident,
    pub ty: Type,
    pub doc: String,
    /// The `default = ...` expression, if given.
    pub default: Option<Expr>,
    /// What a value must satisfy, besides its type.
    pub rules: AttrRules,
}

/// The validators of an attr: `range = A..=B`, `one_of = [..]`,
/// `validate = path`. They run at creation and on every write.
#[derive(Clone, Default)]
pub struct AttrRules {
    /// A range expression the value must lie in.
    pub range: Option<Expr>,
    /// The values allowed.
    pub one_of: Option<syn::ExprArray>,
    /// A function `fn(&T) -> Result<(), impl Display>` that may refuse it.
    pub validate: Option<syn::Path>,
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut item: ItemStruct = input.parse()?;
        let mut attrs = Vec::new();
        let mut attr_errors = Vec::new();
        let mut root = syn::parse_quote!(::gaplic);
        for options in item.attrs.iter().filter(|a| a.path().is_ident("gobj")) {
            if let Some(path) = parse_gobj_options(options, &mut attr_errors) {
                root = path;
            }
        }
        item.attrs.retain(|a| !a.path().is_ident("gobj"));
        for field in item.fields.iter_mut() {
            let Some(at) = field.attrs.iter().position(|a| a.path().is_ident("attr")) else {
                continue;
            };
            let marker = field.attrs.remove(at);
            for repeat in field.attrs.iter().filter(|a| a.path().is_ident("attr")) {
                attr_errors.push(syn::Error::new_spanned(
                    repeat,
                    "a field takes one `#[attr(...)]`; put all options in it",
                ));
            }
            field.attrs.retain(|a| !a.path().is_ident("attr"));
            let Some(name) = field.ident.clone() else {
                attr_errors.push(syn::Error::new_spanned(
                    &marker,
                    "`#[attr]` needs a named field",
                ));
                continue;
            };
            let (default, rules) = parse_attr_options(&marker, &mut attr_errors);
            attrs.push(AttrField {
                name,
                ty: field.ty.clone(),
                doc: doc_of(&field.attrs),
                default,
                rules,
            });
        }
        let mut sections = Vec::new();
        while !input.is_empty() {
            sections.push(input.parse()?);
        }
        Ok(Input {
            item,
            root,
            attrs,
            attr_errors,
            sections,
        })
    }
}

/// Reads `#[attr]`, `#[attr(default = EXPR, range = .., one_of = [..],
/// validate = path)]`; anything else becomes an error in `errors`, so the
/// other options and fields are still read. A repeated option is reported
/// at its second site.
fn parse_attr_options(
    marker: &Attribute,
    errors: &mut Vec<syn::Error>,
) -> (Option<Expr>, AttrRules) {
    let mut default = None;
    let mut rules = AttrRules::default();
    if let syn::Meta::Path(_) = marker.meta {
        return (default, rules);
    }
    fn once<T>(slot: &mut Option<T>, value: T, path: &syn::Path, errors: &mut Vec<syn::Error>) {
        if slot.is_some() {
            let name = path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            errors.push(syn::Error::new_spanned(
                path,
                format!("`{name}` is given twice"),
            ));
        }
        *slot = Some(value);
    }
    let parsed = marker.parse_nested_meta(|meta| {
        if meta.path.is_ident("default") {
            let value: Expr = meta.value()?.parse()?;
            once(&mut default, value, &meta.path, errors);
        } else if meta.path.is_ident("range") {
            let value: Expr = meta.value()?.parse()?;
            once(&mut rules.range, value, &meta.path, errors);
        } else if meta.path.is_ident("one_of") {
            let value: syn::ExprArray = meta.value()?.parse()?;
            once(&mut rules.one_of, value, &meta.path, errors);
        } else if meta.path.is_ident("validate") {
            let value: syn::Path = meta.value()?.parse()?;
            once(&mut rules.validate, value, &meta.path, errors);
        } else {
            let shown = meta
                .path
                .get_ident()
                .map_or_else(|| "this".to_owned(), |i| format!("`{i}`"));
            errors.push(meta.error(format!(
                "unknown `#[attr]` option {shown}; the options are `default = <value>`, \
                 `range = <range>`, `one_of = [<values>]` and `validate = <function>`"
            )));
            // Skip a value, if any, so the remaining options are read.
            if meta.input.peek(Token![=]) {
                let _: Expr = meta.value()?.parse()?;
            }
        }
        Ok(())
    });
    if let Err(error) = parsed {
        errors.push(error);
    }
    (default, rules)
}

/// Reads `#[gobj(crate = "path")]`, which names the crate generated code
/// reaches the runtime through (for gclasses declared inside the runtime
/// itself, or behind a re-export).
fn parse_gobj_options(options: &Attribute, errors: &mut Vec<syn::Error>) -> Option<syn::Path> {
    let mut root = None;
    let parsed = options.parse_nested_meta(|meta| {
        if meta.path.is_ident("crate") {
            let text: syn::LitStr = meta.value()?.parse()?;
            root = Some(text.parse()?);
        } else {
            errors.push(meta.error("unknown `#[gobj]` option; the option is `crate = \"path\"`"));
            if meta.input.peek(Token![=]) {
                let _: Expr = meta.value()?.parse()?;
            }
        }
        Ok(())
    });
    if let Err(error) = parsed {
        errors.push(error);
    }
    root
}

impl Parse for Section {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let keyword = input.call(section_keyword)?;
        let body;
        braced!(body in input);
        let section = match keyword.to_string().as_str() {
            "events" => Section::Events(keyword, parse_list(&body)?),
            "states" => Section::States(keyword, parse_list(&body)?),
            "machine" => {
                let mut entries = Vec::new();
                while !body.is_empty() {
                    entries.push(body.parse()?);
                    if body.peek(Token![,]) {
                        body.parse::<Token![,]>()?;
                    }
                }
                Section::Machine(keyword, entries)
            }
            "hooks" => {
                let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(
                    &body,
                    |p: ParseStream| parse_name(p, "a hook"),
                )?;
                Section::Hooks(keyword, names.into_iter().collect())
            }
            other => {
                return Err(syn::Error::new(
                    keyword.span(),
                    format!(
                        "unknown section `{other}`; the sections are `events`, `states`, `machine` and `hooks`"
                    ),
                ));
            }
        };
        Ok(section)
    }
}

/// Items separated by commas, a trailing comma allowed.
fn parse_list<T: Parse>(input: ParseStream) -> syn::Result<Vec<T>> {
    Ok(Punctuated::<T, Token![,]>::parse_terminated(input)?
        .into_iter()
        .collect())
}

impl Parse for EventDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let doc = parse_doc(input, "an event")?;
        let name = parse_name(input, "an event")?;
        let mut attrs = Vec::new();
        if input.peek(Token![:]) {
            input.parse::<Token![:]>()?;
            while !input.is_empty() && !input.peek(Token![,]) && !input.peek(syn::token::Brace) {
                attrs.push(parse_name(input, "an event attribute")?);
            }
        }
        let mut params = Vec::new();
        if input.peek(syn::token::Brace) {
            let body;
            braced!(body in input);
            params = parse_list(&body)?;
        }
        Ok(EventDecl {
            doc,
            name,
            attrs,
            params,
        })
    }
}

impl Parse for Param {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name = parse_name(input, "a payload key")?;
        input.parse::<Token![:]>()?;
        let ty = input.parse()?;
        Ok(Param { name, ty })
    }
}

impl Parse for StateDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let doc = parse_doc(input, "a state")?;
        let name = parse_name(input, "a state")?;
        Ok(StateDecl { doc, name })
    }
}

impl Parse for MachineEntry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let state = parse_name(input, "a state")?;
        let body;
        braced!(body in input);
        Ok(MachineEntry {
            state,
            rows: parse_list(&body)?,
        })
    }
}

impl Parse for Row {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let event = parse_name(input, "an event")?;
        let mut action = None;
        let mut next = None;
        if input.peek(Token![=>]) {
            input.parse::<Token![=>]>()?;
            action = Some(parse_name(input, "an action")?);
        }
        if input.peek(Token![->]) {
            input.parse::<Token![->]>()?;
            next = Some(parse_name(input, "a next state")?);
        }
        if !input.is_empty() && !input.peek(Token![,]) {
            return Err(input.error(
                "expected `=> action`, `-> NEXT_STATE` or `,` after the event of a machine row",
            ));
        }
        Ok(Row {
            event,
            action,
            next,
        })
    }
}

/// The identifier that names `what`, with an error that says so when the
/// token is something else.
fn parse_name(input: ParseStream, what: &str) -> syn::Result<Ident> {
    if input.peek(syn::Ident) {
        return input.parse();
    }
    if let Some((keyword, _)) = input.cursor().ident() {
        return Err(syn::Error::new(
            keyword.span(),
            format!("`{keyword}` is a Rust keyword and cannot be {what} name"),
        ));
    }
    let example = match what {
        "an event" => "`EV_TIMEOUT`",
        "a state" | "a next state" => "`ST_IDLE`",
        "a payload key" => "`seconds`",
        _ => "`exec_command`",
    };
    let message = if input.is_empty() {
        format!("expected {what} name here")
    } else {
        format!("expected {what} name, which must be an identifier such as {example}")
    };
    Err(input.error(message))
}

/// Leading `///` comments; any other attribute is an error.
fn parse_doc(input: ParseStream, what: &str) -> syn::Result<String> {
    let attrs = input.call(Attribute::parse_outer)?;
    if let Some(other) = attrs.iter().find(|a| !a.path().is_ident("doc")) {
        return Err(syn::Error::new_spanned(
            other,
            format!("only doc comments can precede {what}"),
        ));
    }
    Ok(doc_of(&attrs))
}

/// The text of the `#[doc]` attributes among `attrs`, one line each, with
/// the space after `///` removed.
pub fn doc_of(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| line.strip_prefix(' ').unwrap_or(&line).to_owned())
        .collect();
    lines.join("\n")
}

/// The keyword that opens a section.
fn section_keyword(input: ParseStream) -> syn::Result<Ident> {
    if input.peek(syn::Ident) {
        input.parse()
    } else {
        Err(input.error(
            "expected a section: `events { ... }`, `states { ... }`, `machine { ... }` or `hooks { ... }`",
        ))
    }
}
