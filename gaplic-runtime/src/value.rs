//! Dynamic values carried by event payloads and attrs.

use std::fmt;

use crate::id::GobjId;
use crate::kw::Kw;

/// One value of a keyword payload ([`Kw`]).
///
/// Events that cross a boundary (a config file, another gaplic, the
/// network) arrive with dynamic data, so the payload is a small tree of
/// these. Inside a program, values are built with `From` (or the
/// [`kw!`](crate::kw) macro) and read back with [`FromValue`], which checks
/// the type.
///
/// # Examples
///
/// ```
/// use gaplic::{FromValue, Value};
///
/// let v = Value::from(42_u64);
/// assert_eq!(v, Value::Int(42));
/// assert_eq!(u64::from_value(&v), Some(42));
/// assert_eq!(String::from_value(&v), None);
/// assert_eq!(v.kind(), "int");
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub enum Value {
    /// No value (GinsFSM's `None`).
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer; unsigned values that fit are stored here too, so each
    /// integer has one representation.
    Int(i64),
    /// An unsigned integer above `i64::MAX` (smaller ones are
    /// [`Value::Int`]): a `u64` is stored whole, never saturated.
    Uint(u64),
    /// A floating point number.
    Float(f64),
    /// A UTF-8 string.
    Str(String),
    /// Raw bytes, such as data read from a socket.
    Bytes(Vec<u8>),
    /// An ordered list.
    List(Vec<Value>),
    /// A nested keyword map.
    Map(Kw),
    /// A gobj of the same gaplic.
    Gobj(GobjId),
}

impl Value {
    /// The name of this value's kind, as error messages print it.
    pub const fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::Uint(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Gobj(_) => "gobj",
        }
    }

    /// The string, without copying it, if this is a [`Value::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, without copying them, if this is a [`Value::Bytes`].
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// Whether this is [`Value::Null`].
    pub const fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Uint(u) => write!(f, "{u}"),
            // `Debug` keeps a float a float (`2.0`) and big ones short (`1e300`).
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "<{} bytes>", b.len()),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(kw) => write!(f, "{kw}"),
            Value::Gobj(id) => write!(f, "{id}"),
        }
    }
}

/// A Rust type that can be read out of a [`Value`], with its type checked.
///
/// Implemented for the integer types (range checked), `f32`/`f64` (integers
/// widen), `bool`, `String`, `Vec<u8>` (bytes), `Vec<String>`,
/// `Vec<Value>`, [`Kw`], [`GobjId`], [`Value`] itself, and `Option<T>`,
/// which also accepts a missing key or [`Value::Null`] as `None`.
///
/// These are the types that event payload keys and attrs may be declared
/// with in [`gobj!`](../gaplic/macro.gobj.html).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from an event payload or a creation keyword",
    label = "attrs and declared payload keys need a type that implements `FromValue`",
    note = "`FromValue` is implemented for integers, floats, `bool`, `String`, `Vec<u8>`, `Vec<String>`, `Vec<Value>`, `Kw`, `GobjId`, `Value` and `Option<T>`"
)]
pub trait FromValue: Sized {
    /// What the type expects, as error messages print it (`"u64"`).
    const EXPECTED: &'static str;

    /// Reads the value, or `None` when it has another kind or is out of
    /// range.
    fn from_value(value: &Value) -> Option<Self>;

    /// What a missing key reads as: `None` (the key is required) except for
    /// `Option<T>`.
    fn from_missing() -> Option<Self> {
        None
    }

    /// Whether `value` reads as a `Self`, without making one (so checking a
    /// payload of bytes copies nothing).
    fn matches(value: &Value) -> bool {
        Self::from_value(value).is_some()
    }
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            const EXPECTED: &'static str = stringify!($t);
            fn from_value(value: &Value) -> Option<Self> {
                match value {
                    Value::Int(i) => <$t>::try_from(*i).ok(),
                    Value::Uint(u) => <$t>::try_from(*u).ok(),
                    _ => None,
                }
            }
        }
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(v as i64)
            }
        }
    )*};
}
int_value!(i8, i16, i32, i64, u8, u16, u32);

macro_rules! wide_int_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            const EXPECTED: &'static str = stringify!($t);
            fn from_value(value: &Value) -> Option<Self> {
                match value {
                    Value::Int(i) => <$t>::try_from(*i).ok(),
                    Value::Uint(u) => <$t>::try_from(*u).ok(),
                    _ => None,
                }
            }
        }
        /// An [`Int`](Value::Int) when it fits, otherwise a
        /// [`Uint`](Value::Uint): never saturated.
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                match i64::try_from(v) {
                    Ok(i) => Value::Int(i),
                    // Only unsigned values can be out of `i64`'s range.
                    Err(_) => Value::Uint(v as u64),
                }
            }
        }
    )*};
}
wide_int_value!(u64, usize);

impl FromValue for isize {
    const EXPECTED: &'static str = "isize";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Int(i) => isize::try_from(*i).ok(),
            Value::Uint(u) => isize::try_from(*u).ok(),
            _ => None,
        }
    }
}

impl From<isize> for Value {
    fn from(v: isize) -> Self {
        // `isize` is at most 64 bits on every target Rust supports.
        Value::Int(v as i64)
    }
}

impl FromValue for f64 {
    const EXPECTED: &'static str = "f64";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Float(x) => Some(*x),
            Value::Int(i) => Some(*i as f64),
            Value::Uint(u) => Some(*u as f64),
            _ => None,
        }
    }
}

impl FromValue for f32 {
    const EXPECTED: &'static str = "f32";
    fn from_value(value: &Value) -> Option<Self> {
        f64::from_value(value).map(|x| x as f32)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float(f64::from(v))
    }
}

impl FromValue for bool {
    const EXPECTED: &'static str = "bool";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl FromValue for String {
    const EXPECTED: &'static str = "string";
    fn from_value(value: &Value) -> Option<Self> {
        value.as_str().map(str::to_owned)
    }
    fn matches(value: &Value) -> bool {
        matches!(value, Value::Str(_))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_owned())
    }
}

impl FromValue for Vec<u8> {
    const EXPECTED: &'static str = "bytes";
    fn from_value(value: &Value) -> Option<Self> {
        value.as_bytes().map(<[u8]>::to_vec)
    }
    fn matches(value: &Value) -> bool {
        matches!(value, Value::Bytes(_))
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Bytes(v.to_vec())
    }
}

impl FromValue for Vec<String> {
    const EXPECTED: &'static str = "list of strings";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::List(items) => items.iter().map(String::from_value).collect(),
            _ => None,
        }
    }
}

impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::List(v.into_iter().map(Value::Str).collect())
    }
}

impl FromValue for Vec<Value> {
    const EXPECTED: &'static str = "list";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::List(items) => Some(items.clone()),
            _ => None,
        }
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::List(v)
    }
}

impl FromValue for Kw {
    const EXPECTED: &'static str = "map";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Map(kw) => Some(kw.clone()),
            _ => None,
        }
    }
}

impl From<Kw> for Value {
    fn from(v: Kw) -> Self {
        Value::Map(v)
    }
}

impl FromValue for GobjId {
    const EXPECTED: &'static str = "gobj";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Gobj(id) => Some(*id),
            _ => None,
        }
    }
}

impl From<GobjId> for Value {
    fn from(v: GobjId) -> Self {
        Value::Gobj(v)
    }
}

impl FromValue for Value {
    const EXPECTED: &'static str = "any value";
    fn from_value(value: &Value) -> Option<Self> {
        Some(value.clone())
    }
}

impl<T: FromValue> FromValue for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
    fn from_missing() -> Option<Self> {
        Some(None)
    }
    fn matches(value: &Value) -> bool {
        value.is_null() || T::matches(value)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_range_checked() {
        assert_eq!(u8::from_value(&Value::Int(255)), Some(255));
        assert_eq!(u8::from_value(&Value::Int(256)), None);
        assert_eq!(u64::from_value(&Value::Int(-1)), None);
        assert_eq!(i64::from_value(&Value::Str("1".into())), None);
        assert_eq!(Value::from(u64::MAX), Value::Uint(u64::MAX));
        assert_eq!(u64::from_value(&Value::from(u64::MAX)), Some(u64::MAX));
        assert_eq!(i64::from_value(&Value::from(u64::MAX)), None);
        assert_eq!(Value::from(7_u64), Value::Int(7), "one representation");
        assert_eq!(Value::from(u64::MAX).to_string(), "18446744073709551615");
    }

    #[test]
    fn floats_accept_integers() {
        assert_eq!(f64::from_value(&Value::Int(2)), Some(2.0));
        assert_eq!(f64::from_value(&Value::Bool(true)), None);
    }

    #[test]
    fn option_accepts_missing_and_null() {
        assert_eq!(<Option<bool>>::from_missing(), Some(None));
        assert_eq!(<bool>::from_missing(), None);
        assert_eq!(<Option<bool>>::from_value(&Value::Null), Some(None));
        assert_eq!(
            <Option<bool>>::from_value(&Value::Bool(true)),
            Some(Some(true))
        );
        assert_eq!(<Option<bool>>::from_value(&Value::Int(1)), None);
    }

    #[test]
    fn lists_check_every_item() {
        let ok = Value::from(vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(
            <Vec<String>>::from_value(&ok),
            Some(vec!["a".into(), "b".into()])
        );
        let mixed = Value::List(vec![Value::from("a"), Value::Int(1)]);
        assert_eq!(<Vec<String>>::from_value(&mixed), None);
    }

    #[test]
    fn display_is_readable() {
        let v = Value::List(vec![
            Value::Null,
            Value::from("x"),
            Value::Bytes(vec![1, 2]),
        ]);
        assert_eq!(v.to_string(), "[null, \"x\", <2 bytes>]");
    }
}
