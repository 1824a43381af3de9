//! Source text back from syntax: the types and default values that the
//! metadata and the generated docs show, written as a person writes them
//! (`Option<u64>`, `-1.0`, `vec![1, 2]`), not as tokens are printed
//! (`Option < u64 >`, `- 1.0`, `vec! [1 , 2]`).
//!
//! Expressions are printed from their syntax tree, so a prefix `-` is told
//! from a binary one by structure rather than by guessing. What the tree
//! does not describe finely (types, paths, patterns, the bodies of macros
//! that are not lists of expressions) goes through [`tokens_text`], which
//! spaces a token stream by the kind of each token and its neighbours.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

/// A type as written: `Option<Vec<u8>>`, `&'static str`.
pub fn type_text(ty: &syn::Type) -> String {
    tokens_text(ty.to_token_stream())
}

/// An expression as written: `-1.0`, `"ls"`, `16_777_216`, `Some(3)`,
/// `[1, 2]`, `Duration::from_secs(5)`, `vec![0; 4]`.
pub fn expr_text(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, expr);
    out
}

fn write_expr(out: &mut String, expr: &Expr) {
    match expr {
        Expr::Lit(lit) => out.push_str(&tokens_text(lit.lit.to_token_stream())),
        Expr::Path(_) => out.push_str(&tokens_text(expr.to_token_stream())),
        Expr::Unary(unary) => {
            out.push_str(&tokens_text(unary.op.to_token_stream()));
            write_expr(out, &unary.expr);
        }
        Expr::Reference(reference) => {
            out.push('&');
            if reference.mutability.is_some() {
                out.push_str("mut ");
            }
            write_expr(out, &reference.expr);
        }
        Expr::Binary(binary) => {
            write_expr(out, &binary.left);
            out.push(' ');
            out.push_str(&tokens_text(binary.op.to_token_stream()));
            out.push(' ');
            write_expr(out, &binary.right);
        }
        Expr::Cast(cast) => {
            write_expr(out, &cast.expr);
            out.push_str(" as ");
            out.push_str(&type_text(&cast.ty));
        }
        Expr::Call(call) => {
            write_expr(out, &call.func);
            write_list(out, "(", call.args.iter(), ")");
        }
        Expr::MethodCall(call) => {
            write_expr(out, &call.receiver);
            out.push('.');
            out.push_str(&call.method.to_string());
            if let Some(turbofish) = &call.turbofish {
                out.push_str(&tokens_text(turbofish.to_token_stream()));
            }
            write_list(out, "(", call.args.iter(), ")");
        }
        Expr::Field(field) => {
            write_expr(out, &field.base);
            out.push('.');
            out.push_str(&tokens_text(field.member.to_token_stream()));
        }
        Expr::Index(index) => {
            write_expr(out, &index.expr);
            out.push('[');
            write_expr(out, &index.index);
            out.push(']');
        }
        Expr::Try(expr) => {
            write_expr(out, &expr.expr);
            out.push('?');
        }
        Expr::Paren(paren) => {
            out.push('(');
            write_expr(out, &paren.expr);
            out.push(')');
        }
        Expr::Group(group) => write_expr(out, &group.expr),
        Expr::Array(array) => write_list(out, "[", array.elems.iter(), "]"),
        Expr::Repeat(repeat) => {
            out.push('[');
            write_expr(out, &repeat.expr);
            out.push_str("; ");
            write_expr(out, &repeat.len);
            out.push(']');
        }
        Expr::Tuple(tuple) => {
            write_list(out, "(", tuple.elems.iter(), "");
            // A one-element tuple keeps its comma: `(1,)`.
            if tuple.elems.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        Expr::Range(range) => {
            if let Some(start) = &range.start {
                write_expr(out, start);
            }
            out.push_str(&tokens_text(range.limits.to_token_stream()));
            if let Some(end) = &range.end {
                write_expr(out, end);
            }
        }
        Expr::Struct(item) => write_struct(out, item),
        Expr::Macro(mac) => write_macro(out, &mac.mac),
        other => out.push_str(&tokens_text(other.to_token_stream())),
    }
}

/// `open` + the items separated by `, ` + `close`.
fn write_list<'a>(
    out: &mut String,
    open: &str,
    items: impl Iterator<Item = &'a Expr>,
    close: &str,
) {
    out.push_str(open);
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_expr(out, item);
    }
    out.push_str(close);
}

/// `Path { field: value, shorthand, ..rest }`, or `Path {}`.
fn write_struct(out: &mut String, item: &syn::ExprStruct) {
    let path = syn::ExprPath {
        attrs: Vec::new(),
        qself: item.qself.clone(),
        path: item.path.clone(),
    };
    out.push_str(&tokens_text(path.to_token_stream()));
    let mut parts = Vec::new();
    for field in &item.fields {
        let member = tokens_text(field.member.to_token_stream());
        if field.colon_token.is_some() {
            parts.push(format!("{member}: {}", expr_text(&field.expr)));
        } else {
            parts.push(member);
        }
    }
    if item.dot2_token.is_some() {
        parts.push(format!(
            "..{}",
            item.rest.as_deref().map_or_else(String::new, expr_text)
        ));
    }
    if parts.is_empty() {
        out.push_str(" {}");
    } else {
        out.push_str(" { ");
        out.push_str(&parts.join(", "));
        out.push_str(" }");
    }
}

/// `name!(...)`, `name![...]` or `name! { ... }`; a body that reads as
/// expressions separated by commas (`vec![1, -2]`, `format!("{}", x)`) or
/// as `value; count` (`vec![0; 4]`) is printed as expressions.
fn write_macro(out: &mut String, mac: &syn::Macro) {
    out.push_str(&tokens_text(mac.path.to_token_stream()));
    out.push('!');
    let (open, close) = match mac.delimiter {
        syn::MacroDelimiter::Paren(_) => ("(", ")"),
        syn::MacroDelimiter::Bracket(_) => ("[", "]"),
        syn::MacroDelimiter::Brace(_) => (" { ", " }"),
    };
    if mac.tokens.is_empty() {
        out.push_str(open.trim());
        out.push_str(close.trim());
        return;
    }
    out.push_str(open);
    if let Ok(list) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
        for (i, item) in list.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_expr(out, item);
        }
    } else if let Ok((value, count)) = mac.parse_body_with(|input: syn::parse::ParseStream| {
        let value: Expr = input.parse()?;
        input.parse::<Token![;]>()?;
        let count: Expr = input.parse()?;
        Ok((value, count))
    }) {
        write_expr(out, &value);
        out.push_str("; ");
        write_expr(out, &count);
    } else {
        out.push_str(&tokens_text(mac.tokens.clone()));
    }
    out.push_str(close);
}

/// A token stream as text, each token spaced by its kind and its
/// neighbours': no space inside `()` and `[]`, around `::`, `.`, `..` and
/// angle brackets, after a prefix operator (`-1`, `&x`, `!done`) or a
/// macro's `!`, nor before `,`, `;`, `:` and `?`; one space elsewhere.
///
/// A `-`, `!`, `*` or `&` is a prefix operator when nothing that ends an
/// operand (a name, a literal, a group) comes right before it. Angle
/// brackets are taken as generics, which is what types and paths hold.
pub fn tokens_text(tokens: TokenStream) -> String {
    let mut out = String::new();
    write_tokens(&mut out, tokens);
    out
}

/// What a token is, for spacing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An identifier, a literal or a lifetime: something that ends an
    /// operand.
    Word,
    /// A keyword that an operand follows (`mut`, `dyn`, `as`, `return`):
    /// spaced from a following `(` or `[`, and a `-` after it is a prefix.
    Keyword,
    /// `( ... )` or `[ ... ]`.
    Group,
    /// `{ ... }`.
    Block,
    /// `,` `;` `:` `?`: no space before, one after.
    Separator,
    /// `-x`, `!x`, `*x`, `&x`: no space after.
    Prefix,
    /// The `!` of a macro call: no space on either side.
    Bang,
    /// `::` `.` `..` `..=` `<` `>`: no space on either side.
    Glue,
    /// Any other operator: one space on each side.
    Binary,
}

/// The operators of more than one character, longest first, so that
/// joined punctuation is read as one token.
const OPERATORS: [&str; 24] = [
    "<<=", ">>=", "...", "..=", "::", "->", "=>", "..", "==", "!=", "<=", ">=", "&&", "||", "+=",
    "-=", "*=", "/=", "%=", "^=", "&=", "|=", "<<", ">>",
];

/// The keywords that an operand follows.
const KEYWORDS: [&str; 21] = [
    "as", "break", "const", "continue", "dyn", "else", "for", "if", "impl", "in", "let", "loop",
    "match", "move", "mut", "ref", "return", "static", "unsafe", "where", "while",
];

fn write_tokens(out: &mut String, tokens: TokenStream) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut prev: Option<Kind> = None;
    let mut i = 0;
    while i < trees.len() {
        let (text, kind, taken) = next_token(&trees, i, prev);
        if let Some(prev) = prev
            && space_between(prev, kind)
        {
            out.push(' ');
        }
        match &trees[i] {
            TokenTree::Group(group) if taken == 1 => write_group(out, group),
            _ => out.push_str(&text),
        }
        prev = Some(kind);
        i += taken;
    }
}

/// The token starting at `trees[at]`: its text (empty for a group, which
/// is written by `write_group`), its kind and how many token trees it
/// spans.
fn next_token(trees: &[TokenTree], at: usize, prev: Option<Kind>) -> (String, Kind, usize) {
    let ends_operand = matches!(prev, Some(Kind::Word | Kind::Group | Kind::Block));
    match &trees[at] {
        TokenTree::Ident(ident) => {
            let text = ident.to_string();
            let kind = if KEYWORDS.contains(&text.as_str()) {
                Kind::Keyword
            } else {
                Kind::Word
            };
            (text, kind, 1)
        }
        TokenTree::Literal(literal) => (literal.to_string(), Kind::Word, 1),
        TokenTree::Group(group) => {
            let kind = match group.delimiter() {
                Delimiter::Brace => Kind::Block,
                _ => Kind::Group,
            };
            (String::new(), kind, 1)
        }
        TokenTree::Punct(punct) => {
            // A lifetime: `'` joined to the name that follows.
            if punct.as_char() == '\''
                && let Some(TokenTree::Ident(name)) = trees.get(at + 1)
            {
                return (format!("'{name}"), Kind::Word, 2);
            }
            let (text, taken) = operator_at(trees, at);
            let kind = match text.as_str() {
                "," | ";" | ":" | "?" => Kind::Separator,
                "!" if prev == Some(Kind::Word)
                    && matches!(trees.get(at + 1), Some(TokenTree::Group(_))) =>
                {
                    Kind::Bang
                }
                "-" | "!" | "*" | "&" | "&&" if !ends_operand => Kind::Prefix,
                "::" | "." | ".." | "..=" | "<" | ">" => Kind::Glue,
                _ => Kind::Binary,
            };
            (text, kind, taken)
        }
    }
}

/// The operator at `trees[at]`: the longest known operator its joined
/// punctuation spells, or its single character.
fn operator_at(trees: &[TokenTree], at: usize) -> (String, usize) {
    let mut joined = String::new();
    let mut i = at;
    while let Some(TokenTree::Punct(punct)) = trees.get(i) {
        joined.push(punct.as_char());
        i += 1;
        if punct.spacing() == Spacing::Alone || joined.len() == 3 {
            break;
        }
    }
    for operator in OPERATORS {
        if joined.starts_with(operator) {
            return (operator.to_owned(), operator.len());
        }
    }
    (joined[..1].to_owned(), 1)
}

/// Whether one space goes between a token of kind `prev` and the next one
/// of kind `next`.
fn space_between(prev: Kind, next: Kind) -> bool {
    match (prev, next) {
        (_, Kind::Separator) => false,
        (Kind::Separator | Kind::Binary, _) | (_, Kind::Binary) => true,
        (Kind::Prefix | Kind::Bang, _) | (_, Kind::Bang) => false,
        (Kind::Glue, _) | (_, Kind::Glue) => false,
        // `f(x)`, `a[0]`, `Fn(u8)`, `f(x)(y)`; but `Foo { .. }`, `mut [u8]`.
        (Kind::Word | Kind::Group, Kind::Group) => false,
        _ => true,
    }
}

fn write_group(out: &mut String, group: &proc_macro2::Group) {
    match group.delimiter() {
        Delimiter::Parenthesis => {
            out.push('(');
            write_tokens(out, group.stream());
            out.push(')');
        }
        Delimiter::Bracket => {
            out.push('[');
            write_tokens(out, group.stream());
            out.push(']');
        }
        Delimiter::Brace if group.stream().is_empty() => out.push_str("{}"),
        Delimiter::Brace => {
            out.push_str("{ ");
            write_tokens(out, group.stream());
            out.push_str(" }");
        }
        Delimiter::None => write_tokens(out, group.stream()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(tokens: TokenStream) -> String {
        let expr: Expr = syn::parse2(tokens).expect("an expression");
        expr_text(&expr)
    }

    fn ty(tokens: TokenStream) -> String {
        let ty: syn::Type = syn::parse2(tokens).expect("a type");
        type_text(&ty)
    }

    #[test]
    fn types_read_like_source() {
        use quote::quote;
        assert_eq!(ty(quote!(u64)), "u64");
        assert_eq!(ty(quote!(Option<Vec<u8>>)), "Option<Vec<u8>>");
        assert_eq!(ty(quote!(&'static str)), "&'static str");
        assert_eq!(ty(quote!(&mut [u8])), "&mut [u8]");
        assert_eq!(
            ty(quote!(std::collections::HashMap<String, u8>)),
            "std::collections::HashMap<String, u8>"
        );
        assert_eq!(
            ty(quote!(::core::option::Option<i64>)),
            "::core::option::Option<i64>"
        );
        assert_eq!(ty(quote!([u8; 4])), "[u8; 4]");
        assert_eq!(ty(quote!((u8, String))), "(u8, String)");
        assert_eq!(ty(quote!(())), "()");
        assert_eq!(ty(quote!(*const u8)), "*const u8");
        assert_eq!(ty(quote!(*mut [u8])), "*mut [u8]");
        assert_eq!(
            ty(quote!(Box<dyn Fn(u8) -> u8 + Send>)),
            "Box<dyn Fn(u8) -> u8 + Send>"
        );
        assert_eq!(ty(quote!(<T as Trait>::Out)), "<T as Trait>::Out");
        assert_eq!(ty(quote!(Cow<'a, str>)), "Cow<'a, str>");
    }

    #[test]
    fn literals_keep_their_spelling() {
        use quote::quote;
        assert_eq!(expr(quote!(16_777_216)), "16_777_216");
        assert_eq!(expr(quote!(0x7f_u8)), "0x7f_u8");
        assert_eq!(expr(quote!(1e-3)), "1e-3");
        assert_eq!(expr(quote!("ls")), "\"ls\"");
        assert_eq!(
            expr(quote!("a \"quoted\" word")),
            "\"a \\\"quoted\\\" word\""
        );
        assert_eq!(expr(quote!(r"C:\temp")), "r\"C:\\temp\"");
        assert_eq!(expr(quote!('x')), "'x'");
        assert_eq!(expr(quote!(b"bytes")), "b\"bytes\"");
        assert_eq!(expr(quote!(true)), "true");
    }

    #[test]
    fn prefix_operators_stick_to_their_operand() {
        use quote::quote;
        assert_eq!(expr(quote!(-1.0)), "-1.0");
        assert_eq!(expr(quote!(-1)), "-1");
        assert_eq!(expr(quote!(!true)), "!true");
        assert_eq!(expr(quote!(*LIMIT)), "*LIMIT");
        assert_eq!(expr(quote!(&[1, 2])), "&[1, 2]");
        assert_eq!(expr(quote!(&mut buffer)), "&mut buffer");
        assert_eq!(expr(quote!(--1)), "--1");
        assert_eq!(expr(quote!(-(1 + 2))), "-(1 + 2)");
    }

    #[test]
    fn binary_operators_are_spaced() {
        use quote::quote;
        assert_eq!(expr(quote!(60 * 1000)), "60 * 1000");
        assert_eq!(expr(quote!(u64::MAX - 1)), "u64::MAX - 1");
        assert_eq!(expr(quote!(1 << 20)), "1 << 20");
        assert_eq!(expr(quote!(2 - -1)), "2 - -1");
        assert_eq!(expr(quote!(a < b && c >= d)), "a < b && c >= d");
        assert_eq!(expr(quote!(1 as u64)), "1 as u64");
        assert_eq!(expr(quote!(-1i64 as f64)), "-1i64 as f64");
    }

    #[test]
    fn calls_paths_and_collections() {
        use quote::quote;
        assert_eq!(expr(quote!(Some(3))), "Some(3)");
        assert_eq!(expr(quote!(Some(-3))), "Some(-3)");
        assert_eq!(expr(quote!(None)), "None");
        assert_eq!(expr(quote!(std::u64::MAX)), "std::u64::MAX");
        assert_eq!(
            expr(quote!(::std::time::Duration::ZERO)),
            "::std::time::Duration::ZERO"
        );
        assert_eq!(
            expr(quote!(Duration::from_secs(5))),
            "Duration::from_secs(5)"
        );
        assert_eq!(expr(quote!(String::from("ls"))), "String::from(\"ls\")");
        assert_eq!(expr(quote!("ls".to_owned())), "\"ls\".to_owned()");
        assert_eq!(expr(quote!(Vec::<u8>::new())), "Vec::<u8>::new()");
        assert_eq!(
            expr(quote!(x.iter().collect::<Vec<_>>())),
            "x.iter().collect::<Vec<_>>()"
        );
        assert_eq!(expr(quote!(pair.0)), "pair.0");
        assert_eq!(expr(quote!(TABLE[2])), "TABLE[2]");
        assert_eq!(expr(quote!([1, 2])), "[1, 2]");
        assert_eq!(expr(quote!([-1, 2])), "[-1, 2]");
        assert_eq!(expr(quote!([0u8; 4])), "[0u8; 4]");
        assert_eq!(expr(quote!((1, "a"))), "(1, \"a\")");
        assert_eq!(expr(quote!((1,))), "(1,)");
        assert_eq!(expr(quote!(())), "()");
        assert_eq!(expr(quote!((1 + 2) * 3)), "(1 + 2) * 3");
        assert_eq!(expr(quote!(0..10)), "0..10");
        assert_eq!(expr(quote!(-5..=5)), "-5..=5");
        assert_eq!(expr(quote!(..)), "..");
        assert_eq!(expr(quote!(value?)), "value?");
    }

    #[test]
    fn structs_and_macros() {
        use quote::quote;
        assert_eq!(expr(quote!(Point { x: -1, y: 2 })), "Point { x: -1, y: 2 }");
        assert_eq!(
            expr(quote!(Config {
                depth,
                ..Default::default()
            })),
            "Config { depth, ..Default::default() }"
        );
        assert_eq!(expr(quote!(Empty {})), "Empty {}");
        assert_eq!(expr(quote!(vec![1, 2])), "vec![1, 2]");
        assert_eq!(expr(quote!(vec![-1, -2])), "vec![-1, -2]");
        assert_eq!(expr(quote!(vec![0; 4])), "vec![0; 4]");
        assert_eq!(expr(quote!(vec![])), "vec![]");
        assert_eq!(
            expr(quote!(format!("{}-{}", a, -b))),
            "format!(\"{}-{}\", a, -b)"
        );
        assert_eq!(expr(quote!(env!("HOME"))), "env!(\"HOME\")");
        // A body that is not a list of expressions is spaced token by token.
        assert_eq!(
            expr(quote!(matches!(state, Some(_) if ready))),
            "matches!(state, Some(_) if ready)"
        );
        assert_eq!(
            expr(quote!(m!(&mut [0u8], -x => y))),
            "m!(&mut [0u8], -x => y)"
        );
    }

    #[test]
    fn other_expressions_fall_back_to_tokens() {
        use quote::quote;
        assert_eq!(expr(quote!({ 1 })), "{ 1 }");
        assert_eq!(
            expr(quote!(if on { 1 } else { -1 })),
            "if on { 1 } else { -1 }"
        );
        assert_eq!(expr(quote!(const { -4 })), "const { -4 }");
    }
}
