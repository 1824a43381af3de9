//! The errors of an application file: where (file, line, column, key path)
//! and why, collected so that one reading reports them all.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A place in a file: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, in characters.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` of `source` (clamped to its end).
    pub(crate) fn of(source: &str, offset: usize) -> Position {
        let mut offset = offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &source[..offset];
        let line_start = before.rfind('\n').map_or(0, |at| at + 1);
        Position {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

/// One error of an application file.
///
/// Its [`Display`](fmt::Display) is one line,
/// `FILE:LINE:COLUMN: KEY.PATH: reason`, without the position when it is
/// not known (a file that cannot be read, a section that is missing) and
/// without the key path when the error concerns the whole file;
/// [`render`](AppError::render) adds the line of the file with the place
/// underlined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppError {
    /// The file.
    pub file: PathBuf,
    /// Where in the file, when known.
    pub position: Option<Position>,
    /// The key path (`main.gobj[2].attrs.seconds`), empty for the whole
    /// file.
    pub path: String,
    /// What is wrong.
    pub reason: String,
    /// The line of the file, and the byte range of the place in it.
    excerpt: Option<(String, Range<usize>)>,
}

impl AppError {
    /// An error about the whole file, at no position.
    pub(crate) fn whole_file(file: &Path, reason: impl Into<String>) -> Self {
        AppError {
            file: file.to_owned(),
            position: None,
            path: String::new(),
            reason: reason.into(),
            excerpt: None,
        }
    }

    /// The error at byte range `span` of `source` (none: no position).
    pub(crate) fn at(
        file: &Path,
        source: &str,
        span: Option<Range<usize>>,
        path: String,
        reason: String,
    ) -> Self {
        let position = span.as_ref().map(|span| Position::of(source, span.start));
        let excerpt = span.map(|span| excerpt(source, span));
        AppError {
            file: file.to_owned(),
            position,
            path,
            reason,
            excerpt,
        }
    }

    /// The error as the launcher prints it: its line, then the line of the
    /// file it is about with the place underlined.
    ///
    /// ```text
    /// app.toml:12:11: main.gobj[2].attrs.seconds: bad attr of `OnTimer`: key `seconds`: expected f64, found string
    ///    |
    /// 12 | seconds = "two"
    ///    |           ^^^^^
    /// ```
    pub fn render(&self) -> String {
        let mut text = self.to_string();
        if let (Some(position), Some((line, marked))) = (self.position, &self.excerpt) {
            let number = position.line.to_string();
            let pad = " ".repeat(number.len());
            let before = line[..marked.start].chars().count();
            let width = line[marked.clone()].chars().count().max(1);
            text.push_str(&format!(
                "\n{pad} |\n{number} | {line}\n{pad} | {}{}",
                " ".repeat(before),
                "^".repeat(width)
            ));
        }
        text
    }
}

/// The line of `source` that `span` starts on, and the part of `span` on
/// that line, as a byte range of the line.
fn excerpt(source: &str, span: Range<usize>) -> (String, Range<usize>) {
    let start = floor_char_boundary(source, span.start.min(source.len()));
    let line_start = source[..start].rfind('\n').map_or(0, |at| at + 1);
    let line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |at| start + at);
    let line = source[line_start..line_end].trim_end_matches('\r');
    // A place past the line's text (its `\r`, its end) is shown at its end.
    let from = (start - line_start).min(line.len());
    let to = floor_char_boundary(
        line,
        span.end.saturating_sub(line_start).clamp(from, line.len()),
    );
    (line.to_owned(), from..to)
}

fn floor_char_boundary(source: &str, mut at: usize) -> usize {
    while !source.is_char_boundary(at) {
        at -= 1;
    }
    at
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(Position { line, column }) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for AppError {}

/// Every error found in an application file, in the order of the file
/// (errors with no position first). Never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppErrors {
    errors: Vec<AppError>,
}

impl AppErrors {
    /// `Err` with the errors sorted by position, `Ok` when there are none.
    pub(crate) fn check(errors: Vec<AppError>) -> Result<(), AppErrors> {
        if errors.is_empty() {
            return Ok(());
        }
        Err(AppErrors::sorted(errors))
    }

    /// `errors`, which are not empty, sorted by position.
    pub(crate) fn sorted(mut errors: Vec<AppError>) -> Self {
        errors.sort_by_key(|e| e.position.map(|p| (p.line, p.column)));
        AppErrors { errors }
    }

    /// Just `error`.
    pub(crate) fn one(error: AppError) -> Self {
        AppErrors {
            errors: vec![error],
        }
    }

    /// The errors, in the order of the file.
    pub fn errors(&self) -> &[AppError] {
        &self.errors
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always `false`: there is at least one error.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Every error [rendered](AppError::render), then how many there are.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for error in &self.errors {
            text.push_str("error: ");
            text.push_str(&error.render());
            text.push_str("\n\n");
        }
        text.push_str(&self.summary());
        text
    }

    fn summary(&self) -> String {
        match self.errors.len() {
            1 => "1 error".to_owned(),
            n => format!("{n} errors"),
        }
    }
}

impl fmt::Display for AppErrors {
    /// One error per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppErrors {}

impl IntoIterator for AppErrors {
    type Item = AppError;
    type IntoIter = std::vec::IntoIter<AppError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters_from_one() {
        let source = "a = 1\nné = \"x\"\n";
        assert_eq!(Position::of(source, 0), Position { line: 1, column: 1 });
        let at = source.find('=').unwrap();
        assert_eq!(Position::of(source, at), Position { line: 1, column: 3 });
        let at = source.rfind('=').unwrap();
        assert_eq!(Position::of(source, at), Position { line: 2, column: 4 });
        assert_eq!(
            Position::of(source, source.len()),
            Position { line: 3, column: 1 }
        );
    }

    #[test]
    fn render_underlines_the_place() {
        let source = "[main]\nname = 12\n";
        let start = source.find("12").unwrap();
        let error = AppError::at(
            Path::new("app.toml"),
            source,
            Some(start..start + 2),
            "main.name".into(),
            "expected a string, found an integer".into(),
        );
        assert_eq!(
            error.render(),
            "app.toml:2:8: main.name: expected a string, found an integer\n  |\n2 | name = 12\n  |        ^^"
        );
    }

    #[test]
    fn a_place_at_the_end_of_a_crlf_line_is_shown_at_its_end() {
        let source = "[main]\r\nname = \"x\r\n";
        let at = source.find("\r\n[").unwrap_or(source.len() - 2);
        let error = AppError::at(
            Path::new("app.toml"),
            source,
            Some(at..at + 2),
            String::new(),
            "unclosed string".into(),
        );
        assert_eq!(
            error.render(),
            "app.toml:2:10: unclosed string\n  |\n2 | name = \"x\n  |          ^"
        );
    }

    #[test]
    fn errors_are_sorted_by_position_and_counted() {
        let source = "a\nb\nc\n";
        let file = Path::new("f.toml");
        let late = AppError::at(file, source, Some(4..5), "c".into(), "late".into());
        let early = AppError::at(file, source, Some(0..1), "a".into(), "early".into());
        let nowhere = AppError::whole_file(file, "missing section [main]");
        let errors = AppErrors::check(vec![late, early, nowhere]).unwrap_err();
        assert_eq!(
            errors.to_string(),
            "f.toml: missing section [main]\nf.toml:1:1: a: early\nf.toml:3:1: c: late"
        );
        assert!(errors.render().ends_with("\n\n3 errors"));
        assert!(AppErrors::check(Vec::new()).is_ok());
    }
}
