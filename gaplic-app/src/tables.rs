//! The one room that reads a gclass's metadata ([`GclassMeta`]): it copies
//! the tables into plain structs that the listing, the diagrams and the
//! checks of the application file use. Nothing else in this crate touches
//! the metadata's fields, so a change in how they are read is made here.

use gaplic_runtime::GclassMeta;

/// A gclass's tables, as the launcher shows them.
#[derive(Debug)]
pub(crate) struct Tables {
    pub name: &'static str,
    pub doc: &'static str,
    pub events: Vec<EventTable>,
    /// The first is the initial state.
    pub states: Vec<StateTable>,
    pub rows: Vec<RowTable>,
    pub attrs: Vec<AttrTable>,
}

#[derive(Debug)]
pub(crate) struct EventTable {
    pub name: &'static str,
    pub doc: &'static str,
    pub input: bool,
    pub output: bool,
    pub top: bool,
    pub bottom: bool,
    /// The declared payload keys and their types.
    pub params: Vec<(&'static str, &'static str)>,
}

#[derive(Debug)]
pub(crate) struct StateTable {
    pub name: &'static str,
    pub doc: &'static str,
}

#[derive(Debug)]
pub(crate) struct RowTable {
    pub state: &'static str,
    pub event: &'static str,
    pub action: Option<&'static str>,
    pub next: Option<&'static str>,
}

#[derive(Debug)]
pub(crate) struct AttrTable {
    pub name: &'static str,
    pub ty: &'static str,
    pub default: &'static str,
    /// Its rules (`range 1..=10; validate even`), or `""`.
    pub rules: &'static str,
    pub doc: &'static str,
}

/// The gclass's name.
pub(crate) fn gclass_name(meta: &GclassMeta) -> &'static str {
    meta.name()
}

/// Whether the gclass has an attr called `attr`.
pub(crate) fn has_attr(meta: &GclassMeta, attr: &str) -> bool {
    meta.attr(attr).is_some()
}

/// The names of the gclass's attrs, in field order.
pub(crate) fn attr_names(meta: &GclassMeta) -> Vec<&'static str> {
    meta.attrs().iter().map(|a| a.name()).collect()
}

/// Every table of the gclass.
pub(crate) fn tables(meta: &GclassMeta) -> Tables {
    Tables {
        name: meta.name(),
        doc: meta.doc(),
        events: meta
            .events()
            .iter()
            .map(|e| EventTable {
                name: e.name(),
                doc: e.doc(),
                input: e.input(),
                output: e.output(),
                top: e.top(),
                bottom: e.bottom(),
                params: e.params().iter().map(|p| (p.name(), p.ty())).collect(),
            })
            .collect(),
        states: meta
            .states()
            .iter()
            .map(|s| StateTable {
                name: s.name(),
                doc: s.doc(),
            })
            .collect(),
        rows: meta
            .rows()
            .iter()
            .map(|r| RowTable {
                state: r.state(),
                event: r.event(),
                action: r.action(),
                next: r.next(),
            })
            .collect(),
        attrs: meta
            .attrs()
            .iter()
            .map(|a| AttrTable {
                name: a.name(),
                ty: a.ty(),
                default: a.default(),
                rules: a.rules(),
                doc: a.doc(),
            })
            .collect(),
    }
}
