//! Checking: every rule a gclass's tables must satisfy, one function each,
//! all run on every invocation so one build reports every problem.
//!
//! Each error is spanned on the token at fault. A duplicate is reported at
//! its second site, with a second error at the first site.

use std::collections::{HashMap, HashSet};

use syn::Ident;

use crate::ctxt::Ctxt;
use crate::parse::{AttrField, EventDecl, Input, MachineEntry, Section, StateDecl};

/// The first section of each kind; missing ones are empty.
pub struct Tables<'a> {
    pub events: &'a [EventDecl],
    pub states: &'a [StateDecl],
    pub machine: &'a [MachineEntry],
    pub hooks: &'a [Ident],
    pub states_keyword: Option<&'a Ident>,
    /// Which sections were given: a rule that compares two tables is
    /// skipped when one of them is missing, which is reported once already.
    pub has_events: bool,
    pub has_states: bool,
    pub has_machine: bool,
}

impl<'a> Tables<'a> {
    pub fn of(input: &'a Input) -> Self {
        let mut tables = Tables {
            events: &[],
            states: &[],
            machine: &[],
            hooks: &[],
            states_keyword: None,
            has_events: false,
            has_states: false,
            has_machine: false,
        };
        let mut seen = HashSet::new();
        for section in &input.sections {
            if !seen.insert(section.keyword().to_string()) {
                continue;
            }
            match section {
                Section::Events(_, e) => {
                    tables.events = e;
                    tables.has_events = true;
                }
                Section::States(k, s) => {
                    tables.states = s;
                    tables.states_keyword = Some(k);
                    tables.has_states = true;
                }
                Section::Machine(_, m) => {
                    tables.machine = m;
                    tables.has_machine = true;
                }
                Section::Hooks(_, h) => tables.hooks = h,
            }
        }
        tables
    }
}

/// The attributes an event may carry.
pub const EVENT_ATTRIBUTES: [&str; 4] = ["input", "output", "top", "bottom"];

/// The hooks a gclass may declare.
pub const HOOKS: [&str; 2] = ["start_up", "go_out"];

/// Whether the event is output (`output` is among its attributes).
pub fn is_output(event: &EventDecl) -> bool {
    event.attrs.iter().any(|a| a == "output")
}

/// Whether the event is input: marked `input`, or not marked `output`
/// (GinsFSM's default).
pub fn is_input(event: &EventDecl) -> bool {
    event.attrs.iter().any(|a| a == "input") || !is_output(event)
}

/// Runs every rule.
pub fn check(cx: &Ctxt, input: &Input) {
    let tables = Tables::of(input);
    check_sections(cx, input);
    check_not_generic(cx, input);
    check_state_list_not_empty(cx, &tables);
    check_unique_names(cx, "event", tables.events.iter().map(|e| &e.name));
    check_unique_names(cx, "state", tables.states.iter().map(|s| &s.name));
    check_event_attributes(cx, tables.events);
    check_event_params(cx, tables.events);
    check_machine_states_declared(cx, &tables);
    check_states_have_machine_entries(cx, &tables);
    check_rows(cx, &tables);
    check_input_events_accepted(cx, &tables);
    check_hooks(cx, tables.hooks);
    for error in &input.attr_errors {
        cx.push(error.clone());
    }
    for attr in &input.attrs {
        check_attr_default(cx, attr);
    }
}

/// Why: a gclass without events, states or a machine is not a machine, and
/// a repeated section would leave it unclear which one counts.
fn check_sections(cx: &Ctxt, input: &Input) {
    let mut first: HashMap<String, &Ident> = HashMap::new();
    for section in &input.sections {
        let keyword = section.keyword();
        if let Some(earlier) = first.get(&keyword.to_string()) {
            cx.error(keyword, format!("the `{keyword}` section is given twice"));
            cx.error(earlier, format!("the first `{keyword}` section is here"));
        } else {
            first.insert(keyword.to_string(), keyword);
        }
    }
    let name = &input.item.ident;
    for required in ["events", "states", "machine"] {
        if !first.contains_key(required) {
            cx.error(
                name,
                format!("gclass `{name}` has no `{required}` section; add `{required} {{ ... }}` after the struct"),
            );
        }
    }
}

/// Why: a gclass is instantiated by name from config files and other
/// processes, which cannot pick generic arguments.
fn check_not_generic(cx: &Ctxt, input: &Input) {
    let generics = &input.item.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        cx.error(generics, "a gclass cannot be generic: it is created by name, with no way to choose the parameters");
    }
}

/// Why: a gobj starts in the first state; with none it has no state to be in.
fn check_state_list_not_empty(cx: &Ctxt, tables: &Tables) {
    if let Some(keyword) = tables.states_keyword
        && tables.states.is_empty()
    {
        cx.error(keyword, "the state list is empty; a gclass needs at least one state, the first being the initial one");
    }
}

/// Why: each name becomes an enum variant and a metadata entry; GinsFSM
/// calls a repeated one "OVERFILLED".
fn check_unique_names<'a>(cx: &Ctxt, what: &str, names: impl Iterator<Item = &'a Ident>) {
    let mut first: HashMap<String, &Ident> = HashMap::new();
    for name in names {
        if let Some(earlier) = first.get(&name.to_string()) {
            cx.error(name, format!("{what} `{name}` is declared twice"));
            cx.error(earlier, format!("{what} `{name}` is first declared here"));
        } else {
            first.insert(name.to_string(), name);
        }
    }
}

/// Why: an attribute is either meaningful or a typo that silently changes
/// nothing; `top` and `bottom` are opposite sides.
fn check_event_attributes(cx: &Ctxt, events: &[EventDecl]) {
    for event in events {
        let mut seen = HashSet::new();
        for attr in &event.attrs {
            let word = attr.to_string();
            if !EVENT_ATTRIBUTES.contains(&word.as_str()) {
                cx.error(
                    attr,
                    format!("unknown attribute `{word}` of event `{}`; the attributes are `input`, `output`, `top` and `bottom`", event.name),
                );
            } else if !seen.insert(word.clone()) {
                cx.error(attr, format!("attribute `{word}` is given twice"));
            }
        }
        if seen.contains("top") && seen.contains("bottom") {
            let bottom = event
                .attrs
                .iter()
                .find(|a| *a == "bottom")
                .unwrap_or(&event.name);
            cx.error(
                bottom,
                format!("event `{}` cannot face both `top` and `bottom`", event.name),
            );
        }
    }
}

/// Why: a payload key is read by name; two declarations of one key would
/// disagree on its type.
fn check_event_params(cx: &Ctxt, events: &[EventDecl]) {
    for event in events {
        check_unique_names(
            cx,
            &format!("`{}` payload key", event.name),
            event.params.iter().map(|p| &p.name),
        );
    }
}

/// Why: a machine entry for an undeclared state could never be reached
/// (GinsFSM: "machine key not in state_list"); two entries for one state
/// would split its rows.
fn check_machine_states_declared(cx: &Ctxt, tables: &Tables) {
    check_unique_names(
        cx,
        "machine entry for state",
        tables.machine.iter().map(|e| &e.state),
    );
    if !tables.has_states {
        return;
    }
    let declared: HashSet<String> = tables.states.iter().map(|s| s.name.to_string()).collect();
    for entry in tables.machine {
        if !declared.contains(&entry.state.to_string()) {
            cx.error(
                &entry.state,
                format!("state `{}` is not in the `states` list", entry.state),
            );
        }
    }
}

/// Why: a state without an entry is most likely a forgotten one; an entry
/// with no rows says "accepts nothing" on purpose.
fn check_states_have_machine_entries(cx: &Ctxt, tables: &Tables) {
    if !tables.has_machine {
        return;
    }
    let entries: HashSet<String> = tables.machine.iter().map(|e| e.state.to_string()).collect();
    for state in tables.states {
        if !entries.contains(&state.name.to_string()) {
            cx.error(
                &state.name,
                format!("state `{0}` has no entry in the `machine`; add `{0} {{}}` if it accepts no event", state.name),
            );
        }
    }
}

/// Why: each row must name a declared input event and a declared next
/// state, and a (state, event) pair can have one row only (GinsFSM
/// silently kept the last one).
fn check_rows(cx: &Ctxt, tables: &Tables) {
    let events: HashMap<String, &EventDecl> = tables
        .events
        .iter()
        .map(|e| (e.name.to_string(), e))
        .collect();
    let states: HashSet<String> = tables.states.iter().map(|s| s.name.to_string()).collect();
    for entry in tables.machine {
        check_unique_names(
            cx,
            &format!("row of state `{}` for event", entry.state),
            entry.rows.iter().map(|r| &r.event),
        );
        for row in &entry.rows {
            match events.get(&row.event.to_string()) {
                None if !tables.has_events => {}
                None => cx.error(
                    &row.event,
                    format!("event `{}` is not in the `events` list", row.event),
                ),
                Some(event) if !is_input(event) => cx.error(
                    &row.event,
                    format!("event `{}` is declared `output` only, so no state can accept it; declare it `input output` to accept it too", row.event),
                ),
                Some(_) => {}
            }
            if let Some(next) = &row.next
                && tables.has_states
                && !states.contains(&next.to_string())
            {
                cx.error(
                    next,
                    format!("next state `{next}` is not in the `states` list"),
                );
            }
        }
    }
}

/// Why: an input event no state accepts can only ever be refused; it is a
/// forgotten row or should be declared `output` (GinsFSM checks this too).
fn check_input_events_accepted(cx: &Ctxt, tables: &Tables) {
    if !tables.has_machine || tables.states.is_empty() {
        return;
    }
    let used: HashSet<String> = tables
        .machine
        .iter()
        .flat_map(|e| &e.rows)
        .map(|r| r.event.to_string())
        .collect();
    for event in tables.events {
        if is_input(event) && !used.contains(&event.name.to_string()) {
            cx.error(
                &event.name,
                format!("input event `{}` is accepted by no state; add a row for it, or declare it `output`", event.name),
            );
        }
    }
}

/// Why: a hook name that is not a lifecycle step would never be called.
fn check_hooks(cx: &Ctxt, hooks: &[Ident]) {
    for hook in hooks {
        if !HOOKS.contains(&hook.to_string().as_str()) {
            cx.error(
                hook,
                format!("unknown hook `{hook}`; the hooks are `start_up` and `go_out`"),
            );
        }
    }
    check_unique_names(cx, "hook", hooks.iter());
}

/// Why: an attr's default must have the attr's type. Rust checks every
/// default, with this rule catching the common literal mix-ups first with
/// a message that names the attr.
fn check_attr_default(cx: &Ctxt, attr: &AttrField) {
    let Some(syn::Expr::Lit(syn::ExprLit { lit, .. })) = &attr.default else {
        return;
    };
    let syn::Type::Path(path) = &attr.ty else {
        return;
    };
    let Some(ty) = path.path.segments.last().map(|s| s.ident.to_string()) else {
        return;
    };
    let integer = matches!(
        ty.as_str(),
        "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize"
    );
    let float = matches!(ty.as_str(), "f32" | "f64");
    let expected = if integer {
        "an integer"
    } else if float {
        "a number"
    } else if ty == "bool" {
        "`true` or `false`"
    } else if ty == "String" {
        "a string"
    } else {
        return;
    };
    let fits = match lit {
        syn::Lit::Int(_) => integer || float,
        syn::Lit::Float(_) => float,
        syn::Lit::Bool(_) => ty == "bool",
        syn::Lit::Str(_) => ty == "String",
        _ => false,
    };
    if !fits {
        cx.error(
            lit,
            format!(
                "the default of attr `{}` does not fit its type `{ty}`: expected {expected}",
                attr.name
            ),
        );
    }
}
