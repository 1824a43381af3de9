//! The listing of a gclass for `gclasses`: its events (input or output, top
//! or bottom, payload keys and types), states, machine rows and attrs
//! (type, default, doc), as aligned text.

use gaplic_runtime::GclassMeta;

use crate::tables::{self, Tables};

/// The listing of `meta`.
pub(crate) fn describe(meta: &GclassMeta) -> String {
    let Tables {
        name,
        doc,
        events,
        states,
        rows,
        attrs,
    } = tables::tables(meta);
    let mut out = String::new();
    out.push_str(name);
    out.push('\n');
    let about = summary(doc);
    if !about.is_empty() {
        out.push_str("  ");
        out.push_str(&about);
        out.push('\n');
    }

    out.push_str("  events:\n");
    let lines: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            let params = if e.params.is_empty() {
                String::new()
            } else {
                let keys: Vec<String> = e
                    .params
                    .iter()
                    .map(|(k, ty)| format!("{k}: {ty}"))
                    .collect();
                format!("{{ {} }}", keys.join(", "))
            };
            vec![
                e.name.to_owned(),
                words(&[(e.input, "input"), (e.output, "output")]),
                words(&[(e.top, "top"), (e.bottom, "bottom")]),
                params,
                summary(e.doc),
            ]
        })
        .collect();
    push_table(&mut out, &lines);

    out.push_str("  states:\n");
    let lines: Vec<Vec<String>> = states
        .iter()
        .enumerate()
        .map(|(i, s)| {
            vec![
                s.name.to_owned(),
                if i == 0 {
                    "(initial)".to_owned()
                } else {
                    String::new()
                },
                summary(s.doc),
            ]
        })
        .collect();
    push_table(&mut out, &lines);

    out.push_str("  machine:\n");
    let lines: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row = r.event.to_owned();
            if let Some(action) = r.action {
                row.push_str(&format!(" => {action}"));
            }
            if let Some(next) = r.next {
                row.push_str(&format!(" -> {next}"));
            }
            vec![r.state.to_owned(), row]
        })
        .collect();
    push_table(&mut out, &lines);

    out.push_str("  attrs:\n");
    let lines: Vec<Vec<String>> = attrs
        .iter()
        .map(|a| {
            let doc = summary(a.doc);
            let doc = if a.rules.is_empty() {
                doc
            } else {
                format!("[{}] {doc}", a.rules).trim_end().to_owned()
            };
            vec![
                a.name.to_owned(),
                a.ty.to_owned(),
                format!("= {}", a.default),
                doc,
            ]
        })
        .collect();
    push_table(&mut out, &lines);
    out
}

/// The first paragraph of a doc comment, on one line.
fn summary(doc: &str) -> String {
    let paragraph = doc.trim().split("\n\n").next().unwrap_or("");
    paragraph.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The words whose flag is set, or `-`.
fn words(flags: &[(bool, &str)]) -> String {
    let set: Vec<&str> = flags
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, w)| *w)
        .collect();
    if set.is_empty() {
        "-".to_owned()
    } else {
        set.join(" ")
    }
}

/// Rows of cells, indented, each column as wide as its widest cell; `(none)`
/// for no rows.
fn push_table(out: &mut String, lines: &[Vec<String>]) {
    if lines.is_empty() {
        out.push_str("    (none)\n");
        return;
    }
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            lines
                .iter()
                .map(|l| l.get(c).map_or(0, |cell| cell.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for line in lines {
        let mut text = String::from("    ");
        for (c, cell) in line.iter().enumerate() {
            text.push_str(cell);
            let pad = widths[c].saturating_sub(cell.chars().count());
            text.push_str(&" ".repeat(pad + 2));
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
}
