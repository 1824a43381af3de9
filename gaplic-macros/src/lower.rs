//! Lowering: the checked model into an `Ir` where every name is resolved
//! to an index, so `expand` makes no decisions.

use syn::{Ident, ItemStruct};

use crate::check::{Tables, is_input, is_output};
use crate::parse::{AttrField, Input, Param, doc_of};

/// A checked gclass, ready to generate.
pub struct Ir {
    /// The path generated code reaches the runtime through.
    pub private: proc_macro2::TokenStream,
    /// The struct, `#[attr]` markers removed.
    pub item: ItemStruct,
    /// The struct's doc comment.
    pub doc: String,
    /// `<Gclass>Event`.
    pub event_enum: Ident,
    /// `<Gclass>State`.
    pub state_enum: Ident,
    pub events: Vec<EventIr>,
    pub states: Vec<StateIr>,
    /// `cells[state][event]`: what the state does with the event.
    pub cells: Vec<Vec<Option<Cell>>>,
    /// The rows in source order, for the metadata and the docs.
    pub rows: Vec<RowIr>,
    /// Each distinct action, in order of first use.
    pub actions: Vec<Ident>,
    pub attrs: Vec<AttrField>,
    pub start_up: Option<Ident>,
    pub go_out: Option<Ident>,
}

pub struct EventIr {
    pub name: Ident,
    pub doc: String,
    pub input: bool,
    pub output: bool,
    pub top: bool,
    pub bottom: bool,
    pub params: Vec<Param>,
}

pub struct StateIr {
    pub name: Ident,
    pub doc: String,
}

/// One accepted (state, event) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// Index into `Ir::actions`.
    pub action: Option<usize>,
    /// Index into `Ir::states`.
    pub next: Option<usize>,
}

/// One row, by indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowIr {
    pub state: usize,
    pub event: usize,
    pub cell: Cell,
}

/// Builds the `Ir` of an input that passed `check`.
pub fn lower(input: &Input) -> Ir {
    let tables = Tables::of(input);
    let name = &input.item.ident;
    let events: Vec<EventIr> = tables
        .events
        .iter()
        .map(|e| EventIr {
            name: e.name.clone(),
            doc: e.doc.clone(),
            input: is_input(e),
            output: is_output(e),
            top: e.attrs.iter().any(|a| a == "top"),
            bottom: e.attrs.iter().any(|a| a == "bottom"),
            params: e.params.clone(),
        })
        .collect();
    let states: Vec<StateIr> = tables
        .states
        .iter()
        .map(|s| StateIr {
            name: s.name.clone(),
            doc: s.doc.clone(),
        })
        .collect();
    let event_index = |ident: &Ident| position(events.iter().map(|e| &e.name), ident);
    let state_index = |ident: &Ident| position(states.iter().map(|s| &s.name), ident);

    let mut cells = vec![vec![None; events.len()]; states.len()];
    let mut rows = Vec::new();
    let mut actions: Vec<Ident> = Vec::new();
    for entry in tables.machine {
        let state = state_index(&entry.state);
        for row in &entry.rows {
            let event = event_index(&row.event);
            let action = row
                .action
                .as_ref()
                .map(|a| match actions.iter().position(|x| x == a) {
                    Some(at) => at,
                    None => {
                        actions.push(a.clone());
                        actions.len() - 1
                    }
                });
            let cell = Cell {
                action,
                next: row.next.as_ref().map(state_index),
            };
            cells[state][event] = Some(cell);
            rows.push(RowIr { state, event, cell });
        }
    }
    let hook = |wanted: &str| tables.hooks.iter().find(|h| *h == wanted).cloned();
    Ir {
        private: crate::expand::private(&input.root),
        item: input.item.clone(),
        doc: doc_of(&input.item.attrs),
        event_enum: Ident::new(&format!("{name}Event"), name.span()),
        state_enum: Ident::new(&format!("{name}State"), name.span()),
        events,
        states,
        cells,
        rows,
        actions,
        attrs: input.attrs.clone(),
        start_up: hook("start_up"),
        go_out: hook("go_out"),
    }
}

/// Where `wanted` is among `names`. `check` has made sure it is there.
fn position<'a>(mut names: impl Iterator<Item = &'a Ident>, wanted: &Ident) -> usize {
    names
        .position(|n| n == wanted)
        .expect("name resolved by check")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lowered(tokens: proc_macro2::TokenStream) -> Ir {
        let input: Input = syn::parse2(tokens).expect("parses");
        let cx = crate::ctxt::Ctxt::new();
        crate::check::check(&cx, &input);
        cx.check().expect("checks");
        lower(&input)
    }

    #[test]
    fn rows_become_cells_by_index() {
        let ir = lowered(quote::quote! {
            struct M {}
            events { EV_A: input, EV_B, EV_OUT: output }
            states { ST_ONE, ST_TWO }
            machine {
                ST_ONE { EV_A => go -> ST_TWO, EV_B => go }
                ST_TWO { EV_B -> ST_ONE }
            }
        });
        let go = Some(0);
        assert_eq!(ir.actions.len(), 1);
        assert_eq!(ir.actions[0], "go");
        assert_eq!(
            ir.cells,
            vec![
                vec![
                    Some(Cell {
                        action: go,
                        next: Some(1)
                    }),
                    Some(Cell {
                        action: go,
                        next: None
                    }),
                    None,
                ],
                vec![
                    None,
                    Some(Cell {
                        action: None,
                        next: Some(0)
                    }),
                    None
                ],
            ]
        );
        assert_eq!(
            ir.rows
                .iter()
                .map(|r| (r.state, r.event))
                .collect::<Vec<_>>(),
            [(0, 0), (0, 1), (1, 1)]
        );
        assert_eq!(ir.event_enum, "MEvent");
        assert_eq!(ir.state_enum, "MState");
        let flags: Vec<(bool, bool)> = ir.events.iter().map(|e| (e.input, e.output)).collect();
        assert_eq!(flags, [(true, false), (true, false), (false, true)]);
    }

    #[test]
    fn hooks_and_attrs_are_kept() {
        let ir = lowered(quote::quote! {
            /// Doc.
            struct M {
                /// Seconds.
                #[attr(default = 2)]
                seconds: u64,
                plain: u8,
            }
            events { EV_A }
            states { ST_ONE }
            machine { ST_ONE { EV_A } }
            hooks { go_out }
        });
        assert_eq!(ir.doc, "Doc.");
        assert!(ir.start_up.is_none());
        assert_eq!(ir.go_out.unwrap(), "go_out");
        assert_eq!(ir.attrs.len(), 1);
        assert_eq!(ir.attrs[0].name, "seconds");
        assert_eq!(ir.attrs[0].doc, "Seconds.");
    }
}
