//! Drawing a gclass's machine: Graphviz DOT, Mermaid, or SVG through
//! Graphviz's `dot` program. The diagram comes from the same metadata as
//! the table in the gclass's rustdoc: the states are the nodes (the
//! initial one marked by an arrow from a start point), each machine row is
//! an edge labelled `EV_X / action` (`EV_X` alone when the row has no
//! action), and a row without a next state is a loop on its own state.

use std::fmt::{self, Write as _};
use std::io::{self, Read, Write};
use std::process::{Command, Stdio};

use gaplic_runtime::GclassMeta;

use crate::tables::{self, RowTable, Tables};

/// A diagram format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrawFormat {
    /// Graphviz DOT text.
    Dot,
    /// A Mermaid state diagram (`stateDiagram-v2`), which GitHub renders in
    /// a ```` ```mermaid ```` block.
    Mermaid,
    /// SVG, made by Graphviz's `dot` program, which must be on `PATH`.
    Svg,
}

/// Why a diagram could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum DrawError {
    /// SVG needs Graphviz's `dot` program, and it is not on `PATH`.
    DotMissing,
    /// `dot` ran and failed.
    DotFailed {
        /// What it wrote to standard error.
        message: String,
    },
    /// `dot` could not be run or talked to.
    Io(io::Error),
}

impl fmt::Display for DrawError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DrawError::DotMissing => f.write_str(
                "drawing SVG needs Graphviz's `dot` program, which is not on PATH \
                 (install Graphviz, or draw with --format dot or mermaid)",
            ),
            DrawError::DotFailed { message } => write!(f, "Graphviz's `dot` failed: {message}"),
            DrawError::Io(error) => write!(f, "cannot run Graphviz's `dot`: {error}"),
        }
    }
}

impl std::error::Error for DrawError {}

/// The machine of `meta` in `format`.
///
/// # Errors
///
/// Only for [`DrawFormat::Svg`]: see [`svg`].
pub fn draw(meta: &GclassMeta, format: DrawFormat) -> Result<String, DrawError> {
    match format {
        DrawFormat::Dot => Ok(dot(meta)),
        DrawFormat::Mermaid => Ok(mermaid(meta)),
        DrawFormat::Svg => svg(meta),
    }
}

/// The label of a row's edge.
fn label(row: &RowTable) -> String {
    match row.action {
        Some(action) => format!("{} / {action}", row.event),
        None => row.event.to_owned(),
    }
}

/// The state a row leads to: its next state, or its own.
fn target(row: &RowTable) -> &'static str {
    row.next.unwrap_or(row.state)
}

/// A DOT string literal.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The machine of `meta` as Graphviz DOT.
///
/// # Examples
///
/// ```
/// use gaplic::{GTimer, Gclass};
///
/// let dot = gaplic::app::draw::dot(GTimer::META);
/// assert!(dot.starts_with("digraph \"GTimer\" {"));
/// assert!(dot.contains("\"ST_IDLE\" -> \"ST_IDLE\" [label=\"EV_SET_TIMER / set_timer\"];"));
/// ```
pub fn dot(meta: &GclassMeta) -> String {
    let Tables {
        name, states, rows, ..
    } = tables::tables(meta);
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "digraph {} {{", quoted(name));
    out.push_str("    rankdir=LR;\n");
    out.push_str("    node [shape=box, style=rounded, fontname=\"sans-serif\"];\n");
    out.push_str("    edge [fontname=\"sans-serif\", fontsize=10];\n");
    if let Some(initial) = states.first() {
        out.push_str("    \"[*]\" [shape=point, width=0.15, label=\"\"];\n");
        let _ = writeln!(out, "    \"[*]\" -> {};", quoted(initial.name));
    }
    for state in &states {
        let _ = writeln!(out, "    {};", quoted(state.name));
    }
    for row in &rows {
        let _ = writeln!(
            out,
            "    {} -> {} [label={}];",
            quoted(row.state),
            quoted(target(row)),
            quoted(&label(row))
        );
    }
    out.push_str("}\n");
    out
}

/// The machine of `meta` as a Mermaid state diagram.
///
/// # Examples
///
/// ```
/// use gaplic::{GTimer, Gclass};
///
/// let mermaid = gaplic::app::draw::mermaid(GTimer::META);
/// assert!(mermaid.starts_with("stateDiagram-v2\n    [*] --> ST_IDLE\n"));
/// assert!(mermaid.contains("    ST_ARMED --> ST_ARMED : EV_FIRED / fire\n"));
/// ```
pub fn mermaid(meta: &GclassMeta) -> String {
    let Tables { states, rows, .. } = tables::tables(meta);
    let mut out = String::from("stateDiagram-v2\n");
    if let Some(initial) = states.first() {
        let _ = writeln!(out, "    [*] --> {}", initial.name);
    }
    // Declared one by one, so that a state with no row is drawn too.
    for state in &states {
        let _ = writeln!(out, "    {}", state.name);
    }
    for row in &rows {
        let _ = writeln!(
            out,
            "    {} --> {} : {}",
            row.state,
            target(row),
            label(row)
        );
    }
    out
}

/// The machine of `meta` as SVG, drawn by Graphviz's `dot` program from
/// [`dot`]'s text.
///
/// # Errors
///
/// [`DrawError::DotMissing`] when `dot` is not on `PATH`;
/// [`DrawError::DotFailed`] when it fails; [`DrawError::Io`] when it
/// cannot be run or talked to.
pub fn svg(meta: &GclassMeta) -> Result<String, DrawError> {
    let mut child = match Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(DrawError::DotMissing);
        }
        Err(error) => return Err(DrawError::Io(error)),
    };
    // `dot` reads all its input before it writes: writing first, then
    // reading, cannot block on a full pipe.
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot(meta).as_bytes())
            .map_err(DrawError::Io)?;
    }
    let mut svg = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut svg).map_err(DrawError::Io)?;
    }
    let mut message = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        stderr.read_to_string(&mut message).map_err(DrawError::Io)?;
    }
    let status = child.wait().map_err(DrawError::Io)?;
    if !status.success() {
        let message = match message.trim() {
            "" => format!("it exited with {status}"),
            text => text.to_owned(),
        };
        return Err(DrawError::DotFailed { message });
    }
    Ok(svg)
}
