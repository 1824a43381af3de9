//! TOML values to gaplic [`Value`]s.

use gaplic_runtime::{Kw, Value};
use toml::Spanned;
use toml::de::DeValue;

use super::read::{Report, key_path};

/// What a TOML value is, as messages name it.
pub(crate) fn kind(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The gaplic value of a TOML value: strings, integers, floats, booleans,
/// arrays (lists) and tables (maps). A datetime has no gaplic value: it is
/// reported, as is an integer past 64 bits, and `None` returned.
pub(crate) fn to_value(
    report: &mut Report<'_>,
    node: &Spanned<DeValue<'_>>,
    path: &str,
) -> Option<Value> {
    match node.get_ref() {
        DeValue::String(s) => Some(Value::Str(s.to_string())),
        DeValue::Boolean(b) => Some(Value::Bool(*b)),
        DeValue::Integer(i) => {
            if let Ok(int) = i64::from_str_radix(i.as_str(), i.radix()) {
                return Some(Value::Int(int));
            }
            if let Ok(uint) = u64::from_str_radix(i.as_str(), i.radix()) {
                return Some(Value::from(uint));
            }
            report.error(
                node.span(),
                path,
                format!("integer {i} does not fit in 64 bits"),
            );
            None
        }
        DeValue::Float(f) => match f.as_str().parse::<f64>() {
            Ok(float) => Some(Value::Float(float)),
            Err(_) => {
                report.error(node.span(), path, format!("cannot read float `{f}`"));
                None
            }
        },
        DeValue::Datetime(datetime) => {
            report.error(
                node.span(),
                path,
                format!(
                    "a datetime cannot be a gaplic value: write it as a string (\"{datetime}\")"
                ),
            );
            None
        }
        DeValue::Array(items) => {
            let mut list = Vec::with_capacity(items.len());
            let mut complete = true;
            for (i, item) in items.iter().enumerate() {
                match to_value(report, item, &format!("{path}[{i}]")) {
                    Some(value) => list.push(value),
                    None => complete = false,
                }
            }
            complete.then_some(Value::List(list))
        }
        DeValue::Table(table) => {
            let mut kw = Kw::new();
            let mut complete = true;
            for (key, item) in table.iter() {
                let key = key.get_ref();
                match to_value(report, item, &key_path(path, key)) {
                    Some(value) => {
                        kw.insert(key.to_string(), value);
                    }
                    None => complete = false,
                }
            }
            complete.then_some(Value::Map(kw))
        }
    }
}
