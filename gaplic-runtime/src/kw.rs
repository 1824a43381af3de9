//! `Kw`: the ordered keyword data of an event or a creation.

use std::borrow::Cow;
use std::fmt;

use crate::value::{FromValue, Value};

/// Ordered keyword data: the payload of an event, or the keywords a gobj is
/// created with (GinsFSM's `**kw`).
///
/// Keys keep the order they were first inserted in. Payloads are small, so
/// the map is a vector searched in order: an empty `Kw` costs nothing to
/// make, and a lookup among a handful of keys is faster than a hash.
///
/// Reading with [`get`](Kw::get) checks the type and names the key in its
/// error.
///
/// # Examples
///
/// ```
/// use gaplic::{kw, Kw, KwError};
///
/// let kw = kw! { "seconds" => 2, "command" => "ls" };
/// assert_eq!(kw.get::<u64>("seconds"), Ok(2));
/// assert_eq!(kw.get::<Option<bool>>("autostart"), Ok(None));
/// assert_eq!(
///     kw.get::<bool>("command").unwrap_err().to_string(),
///     "key `command`: expected bool, found string"
/// );
/// assert_eq!(
///     kw.get::<bool>("autostart"),
///     Err(KwError::Missing { key: "autostart".into() })
/// );
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct Kw {
    entries: Vec<(Cow<'static, str>, Value)>,
}

impl Kw {
    /// An empty payload. It does not allocate.
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// Sets `key` to `value`, keeping the key's place if it was there, and
    /// returns the value it replaces.
    pub fn insert(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<Value>,
    ) -> Option<Value> {
        let key = key.into();
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => Some(std::mem::replace(slot, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// `self` with `key` set to `value`, for building payloads in one
    /// expression.
    #[must_use]
    pub fn with(mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> Self {
        self.insert(key, value);
        self
    }

    /// The value under `key`, untyped.
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value under `key` as a `T`.
    ///
    /// # Errors
    ///
    /// [`KwError::Missing`] when the key is absent and `T` is not an
    /// `Option`; [`KwError::WrongType`] when the value is of another kind or
    /// out of `T`'s range.
    pub fn get<T: FromValue>(&self, key: &str) -> Result<T, KwError> {
        match self.value(key) {
            Some(value) => T::from_value(value).ok_or_else(|| KwError::WrongType {
                key: key.to_owned(),
                expected: T::EXPECTED,
                found: value.kind(),
            }),
            None => T::from_missing().ok_or_else(|| KwError::Missing {
                key: key.to_owned(),
            }),
        }
    }

    /// Checks that `key` can be read as a `T`, without making one.
    ///
    /// # Errors
    ///
    /// As [`get`](Kw::get).
    pub fn check<T: FromValue>(&self, key: &str) -> Result<(), KwError> {
        match self.value(key) {
            Some(value) if T::matches(value) => Ok(()),
            Some(value) => Err(KwError::WrongType {
                key: key.to_owned(),
                expected: T::EXPECTED,
                found: value.kind(),
            }),
            None if T::from_missing().is_some() => Ok(()),
            None => Err(KwError::Missing {
                key: key.to_owned(),
            }),
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(at).1)
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &str) -> bool {
        self.value(key).is_some()
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the payload holds no memory of its own: forgetting it then
    /// leaks nothing.
    #[inline(always)]
    pub(crate) fn owns_nothing(&self) -> bool {
        self.entries.capacity() == 0
    }

    /// The keys and values, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_ref())
    }
}

impl fmt::Debug for Kw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl fmt::Display for Kw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}: {v}")?;
        }
        f.write_str("}")
    }
}

impl<K: Into<Cow<'static, str>>, V: Into<Value>> FromIterator<(K, V)> for Kw {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut kw = Kw::new();
        for (k, v) in iter {
            kw.insert(k, v);
        }
        kw
    }
}

/// Why a key of a [`Kw`] could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KwError {
    /// The key is required and absent.
    Missing {
        /// The key.
        key: String,
    },
    /// The value has another kind than the one expected, or is out of range.
    WrongType {
        /// The key.
        key: String,
        /// What was expected (`"u64"`).
        expected: &'static str,
        /// The kind found (`"string"`).
        found: &'static str,
    },
    /// The value has the right type but lies outside what the key allows
    /// (a buffer size past its maximum, a negative timeout).
    OutOfRange {
        /// The key.
        key: String,
        /// The value given, as text (`"0"`, `"NaN"`).
        value: String,
        /// The values allowed (`"1 to 16777216"`).
        expected: &'static str,
    },
    /// A validator of the key refused the value.
    Refused {
        /// The key.
        key: String,
        /// The value given, as text.
        value: String,
        /// Why, as the validator said it.
        reason: String,
    },
}

impl KwError {
    /// The key the error is about.
    pub fn key(&self) -> &str {
        match self {
            KwError::Missing { key }
            | KwError::WrongType { key, .. }
            | KwError::OutOfRange { key, .. }
            | KwError::Refused { key, .. } => key,
        }
    }
}

impl fmt::Display for KwError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KwError::Missing { key } => write!(f, "key `{key}` is missing"),
            KwError::WrongType {
                key,
                expected,
                found,
            } => write!(f, "key `{key}`: expected {expected}, found {found}"),
            KwError::OutOfRange {
                key,
                value,
                expected,
            } => write!(
                f,
                "key `{key}`: {value} is out of range, expected {expected}"
            ),
            KwError::Refused { key, value, reason } => {
                write!(f, "key `{key}`: {value} refused: {reason}")
            }
        }
    }
}

impl std::error::Error for KwError {}

/// Builds a [`Kw`] from `key => value` pairs; values go through
/// `Into<Value>`.
///
/// # Examples
///
/// ```
/// use gaplic::{kw, Value};
///
/// let kw = kw! { "data" => "query1", "n" => 3 };
/// assert_eq!(kw.value("n"), Some(&Value::Int(3)));
/// assert!(kw! {}.is_empty());
/// ```
#[macro_export]
macro_rules! kw {
    () => { $crate::Kw::new() };
    ($($key:expr => $value:expr),+ $(,)?) => {
        $crate::Kw::new()$(.with($key, $value))+
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_keeps_the_first_position() {
        let mut kw = Kw::new().with("a", 1).with("b", 2);
        assert_eq!(kw.insert("a", 3), Some(Value::Int(1)));
        assert_eq!(kw.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(kw.get::<i64>("a"), Ok(3));
        assert_eq!(kw.remove("a"), Some(Value::Int(3)));
        assert_eq!(kw.len(), 1);
        assert!(!kw.contains("a"));
    }

    #[test]
    fn errors_name_the_key() {
        let kw = Kw::new().with("port", -1);
        assert_eq!(
            kw.get::<u16>("port").unwrap_err().to_string(),
            "key `port`: expected u16, found int"
        );
        assert_eq!(
            kw.check::<u16>("host").unwrap_err().to_string(),
            "key `host` is missing"
        );
    }

    #[test]
    fn out_of_range_names_the_key_the_value_and_the_range() {
        let error = KwError::OutOfRange {
            key: "rx_size".to_owned(),
            value: "0".to_owned(),
            expected: "1 to 16777216",
        };
        assert_eq!(
            error.to_string(),
            "key `rx_size`: 0 is out of range, expected 1 to 16777216"
        );
    }

    #[test]
    fn display_keeps_order() {
        let kw: Kw = [("z", 1), ("a", 2)].into_iter().collect();
        assert_eq!(kw.to_string(), "{z: 1, a: 2}");
    }
}
