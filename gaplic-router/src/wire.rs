//! GinsFSM's intra-event messages, field for field, and their JSON: no IO.
//!
//! Each message is one JSON object, sent in one websocket text frame. Its
//! `message_type` says which of five it is; the other fields are fixed per
//! type, in GinsFSM's order (its encoder writes them in that order, and
//! [`encode`] does the same):
//!
//! | `message_type` | fields |
//! |---|---|
//! | `__identity_card__`, `__identity_card_ack__` | `my_gaplic_name`, `my_roles` |
//! | `__event__` | `serial`, `event_name`, `destination_gaplic`, `destination_role`, `destination_gobj`, `origin_gaplic`, `origin_role`, `origin_gobj`, `kw` |
//! | `__event_ack__` | `serial`, `event_name`, `reference` |
//! | `__event_nack__` | `serial`, `event_name`, `error_message` |
//!
//! [`decode`] accepts everything GinsFSM 0.7.3 sends: Python's `", "` and
//! `": "` separators, `\uXXXX` escapes (surrogate pairs included), `<\/`,
//! `origin_role` as a string, a list or `null`, `null` roles and names. It
//! refuses anything else with a [`WireError`] that names the field and the
//! reason, checks the size against a limit before parsing, and never
//! panics (nesting is bounded by the JSON parser's recursion limit, 128).
//! A key GinsFSM does not send for a type is refused as GinsFSM refuses
//! it.
//!
//! `kw` converts to and from gaplic's [`Kw`]: objects, lists, strings,
//! numbers, booleans and `null`; integers stay exact (an unsigned one above
//! `i64::MAX` is a [`Value::Uint`]).

use std::fmt;

use gaplic_runtime::{Kw, Value};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value as Json};

// The fast path of `decode`: serde's derived readers, no JSON tree.
mod fast;

/// The largest message [`decode`] reads by default, in bytes (1 MiB): the
/// router's `max_message_size` attr, and the websocket's message and frame
/// limits, start from it.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 1 << 20;

/// The `message_type` of an identity card.
pub const IDENTITY_CARD: &str = "__identity_card__";
/// The `message_type` of an identity card's acknowledgement.
pub const IDENTITY_CARD_ACK: &str = "__identity_card_ack__";
/// The `message_type` of an event.
pub const EVENT: &str = "__event__";
/// The `message_type` of an event's acknowledgement.
pub const EVENT_ACK: &str = "__event_ack__";
/// The `message_type` of an event's refusal.
pub const EVENT_NACK: &str = "__event_nack__";

/// One router message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// `__identity_card__`: a client introduces itself.
    IdentityCard(IdentityCard),
    /// `__identity_card_ack__`: the server answers with its own card.
    IdentityCardAck(IdentityCard),
    /// `__event__`: an event for a gobj of another gaplic.
    Event(IntraEvent),
    /// `__event_ack__`: the event was taken.
    EventAck(EventAck),
    /// `__event_nack__`: the event was refused.
    EventNack(EventNack),
}

impl Message {
    /// The message's `message_type`.
    pub fn message_type(&self) -> &'static str {
        match self {
            Message::IdentityCard(_) => IDENTITY_CARD,
            Message::IdentityCardAck(_) => IDENTITY_CARD_ACK,
            Message::Event(_) => EVENT,
            Message::EventAck(_) => EVENT_ACK,
            Message::EventNack(_) => EVENT_NACK,
        }
    }
}

/// The fields of `__identity_card__` and `__identity_card_ack__`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityCard {
    /// The gaplic's name; `None` for a nameless GinsFSM gaplic.
    pub my_gaplic_name: Option<String>,
    /// Its roles, then `^role` entries (roles reachable back through it:
    /// those of its own dynamic routes) in a client's card, or `*role`
    /// entries (roles it reaches through its static routes) in a server's
    /// ack. `null` entries (a GinsFSM gaplic without roles) are dropped.
    pub my_roles: Vec<String>,
}

/// What an entry of `my_roles` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleEntry<'a> {
    /// A role of the gaplic itself.
    Own(&'a str),
    /// `^role`: a role reachable back through it (one or more `^`).
    BackWay(&'a str),
    /// `*role`: a role it reaches through its static routes.
    Subcontracted(&'a str),
    /// `=token`: not a role but a gaplic extension (GinsFSM stores it as a
    /// role and never routes by it, since no gaplic has it as a role).
    Token(&'a str),
}

impl<'a> RoleEntry<'a> {
    /// Reads an entry of `my_roles`.
    pub fn parse(entry: &'a str) -> RoleEntry<'a> {
        let entry = entry.trim();
        if let Some(token) = entry.strip_prefix('=') {
            return RoleEntry::Token(token);
        }
        let pure = entry.trim_start_matches(['^', '*']);
        match entry.chars().next() {
            Some('^') => RoleEntry::BackWay(pure),
            Some('*') => RoleEntry::Subcontracted(pure),
            _ => RoleEntry::Own(entry),
        }
    }

    /// The role an event may be routed by, if the entry is one (a relayed
    /// token, `^=...`, is not).
    pub fn routable(&self) -> Option<&'a str> {
        match *self {
            RoleEntry::Own(role) | RoleEntry::BackWay(role) | RoleEntry::Subcontracted(role)
                if !role.is_empty() && !role.starts_with('=') =>
            {
                Some(role)
            }
            _ => None,
        }
    }
}

/// `origin_role` of an event: GinsFSM writes a string, except for the
/// events of an external subscription (its roles, as a list) and the
/// answers of `__subscribe_response__` (`null`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Roles {
    /// `null`.
    #[default]
    None,
    /// One role.
    One(String),
    /// A list of roles.
    Many(Vec<String>),
}

impl Roles {
    /// The first role, if any.
    pub fn first(&self) -> Option<&str> {
        let first = match self {
            Roles::None => None,
            Roles::One(role) => Some(role.as_str()),
            Roles::Many(roles) => roles.first().map(String::as_str),
        };
        first.filter(|role| !role.is_empty())
    }
}

/// The fields of `__event__`, in GinsFSM's order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IntraEvent {
    /// The sender's serial of the event on its route.
    pub serial: Option<u64>,
    /// The event's name.
    pub event_name: String,
    /// The gaplic it is for (its first word counts); `None` or empty to
    /// route by role only.
    pub destination_gaplic: Option<String>,
    /// The role it is for; `None` or empty to route by name only.
    pub destination_role: Option<String>,
    /// The unique name of the gobj it is for.
    pub destination_gobj: String,
    /// The gaplic it comes from.
    pub origin_gaplic: Option<String>,
    /// The role of the gaplic it comes from.
    pub origin_role: Roles,
    /// The gobj it comes from, where an answer goes.
    pub origin_gobj: Option<String>,
    /// The payload.
    #[serde(serialize_with = "serialize_kw")]
    pub kw: Kw,
}

/// The fields of `__event_ack__`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventAck {
    /// The serial of the event acknowledged.
    pub serial: Option<u64>,
    /// Its name.
    pub event_name: String,
    /// The reference of an external subscription made by the event.
    pub reference: Option<String>,
}

/// The fields of `__event_nack__`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventNack {
    /// The serial of the event refused.
    pub serial: Option<u64>,
    /// Its name.
    pub event_name: String,
    /// Why it was refused.
    pub error_message: String,
}

/// Why a message could not be decoded or encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The message is larger than the limit; it was not parsed.
    TooLarge {
        /// Its size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The text is not JSON.
    NotJson {
        /// What the JSON parser said, with the line and column.
        reason: String,
    },
    /// The JSON is not an object.
    NotAnObject {
        /// What it is instead.
        found: &'static str,
    },
    /// `message_type` names no message GinsFSM knows.
    UnknownMessageType {
        /// The type given.
        message_type: String,
    },
    /// A field the message type needs is absent.
    MissingField {
        /// The message type.
        message_type: &'static str,
        /// The field.
        field: &'static str,
    },
    /// A field is not one the message type has (GinsFSM drops such a
    /// message whole).
    UnexpectedField {
        /// The message type.
        message_type: &'static str,
        /// The field.
        field: String,
    },
    /// A field holds a value of another kind, or out of range.
    BadField {
        /// The field (a dotted path for one inside `kw` or a list).
        field: String,
        /// What it should be.
        expected: &'static str,
        /// What it is.
        found: String,
    },
    /// A value of `kw` cannot be written as JSON.
    Unencodable {
        /// The key (a dotted path for a nested one).
        key: String,
        /// Why.
        reason: &'static str,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::TooLarge { size, limit } => {
                write!(f, "message of {size} bytes is over the {limit}-byte limit")
            }
            WireError::NotJson { reason } => write!(f, "message is not JSON: {reason}"),
            WireError::NotAnObject { found } => {
                write!(f, "message is a JSON {found}, not an object")
            }
            WireError::UnknownMessageType { message_type } => {
                write!(f, "unknown message_type `{message_type}`")
            }
            WireError::MissingField {
                message_type,
                field,
            } => write!(f, "{message_type} without field `{field}`"),
            WireError::UnexpectedField {
                message_type,
                field,
            } => write!(f, "{message_type} has an unexpected field `{field}`"),
            WireError::BadField {
                field,
                expected,
                found,
            } => write!(f, "field `{field}`: expected {expected}, found {found}"),
            WireError::Unencodable { key, reason } => {
                write!(f, "kw key `{key}` cannot be sent: {reason}")
            }
        }
    }
}

impl std::error::Error for WireError {}

/// Decodes one message of at most `limit` bytes.
///
/// # Errors
///
/// [`WireError::TooLarge`] before anything is parsed; otherwise the first
/// fault found, naming the field.
///
/// # Examples
///
/// ```
/// use gaplic_router::wire::{decode, Message, DEFAULT_MAX_MESSAGE_SIZE};
///
/// // As GinsFSM writes it: Python's separators, `<\/`, a `\u` escape.
/// let text = r#"{"message_type": "__event_nack__", "serial": 3, "event_name": "EV_X", "error_message": "GObj 'caf\u00e9' UNKNOWN <\/"}"#;
/// let Message::EventNack(nack) = decode(text.as_bytes(), DEFAULT_MAX_MESSAGE_SIZE)? else {
///     unreachable!()
/// };
/// assert_eq!(nack.error_message, "GObj 'café' UNKNOWN </");
/// assert!(decode(b"[1]", 100).unwrap_err().to_string().contains("not an object"));
/// # Ok::<(), gaplic_router::wire::WireError>(())
/// ```
pub fn decode(bytes: &[u8], limit: usize) -> Result<Message, WireError> {
    if bytes.len() > limit {
        return Err(WireError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    // The common case straight into typed fields; anything it does not
    // take goes the long way, which finds and names the fault.
    match fast::decode(bytes) {
        Some(message) => Ok(message),
        None => decode_reference(bytes),
    }
}

/// [`decode`] for text already known to be UTF-8 (a websocket text
/// message): its strings are not checked again.
///
/// # Errors
///
/// As [`decode`].
pub fn decode_text(text: &str, limit: usize) -> Result<Message, WireError> {
    if text.len() > limit {
        return Err(WireError::TooLarge {
            size: text.len(),
            limit,
        });
    }
    match fast::decode(text) {
        Some(message) => Ok(message),
        None => decode_reference(text.as_bytes()),
    }
}

/// [`decode`] through a JSON tree, without the size check: slower, and
/// the one that names faults. [`decode`]'s fast path must agree with it
/// (the fuzz target checks that).
pub(crate) fn decode_reference(bytes: &[u8]) -> Result<Message, WireError> {
    let json: Json = serde_json::from_slice(bytes).map_err(|error| WireError::NotJson {
        reason: error.to_string(),
    })?;
    let Json::Object(mut object) = json else {
        return Err(WireError::NotAnObject {
            found: json_kind(&json),
        });
    };
    let message_type = match object.remove("message_type") {
        Some(Json::String(message_type)) => message_type,
        Some(other) => {
            return Err(bad("message_type", "a string", &other));
        }
        None => {
            return Err(WireError::MissingField {
                message_type: "message",
                field: "message_type",
            });
        }
    };
    let mut fields = Fields {
        message_type: match message_type.as_str() {
            IDENTITY_CARD => IDENTITY_CARD,
            IDENTITY_CARD_ACK => IDENTITY_CARD_ACK,
            EVENT => EVENT,
            EVENT_ACK => EVENT_ACK,
            EVENT_NACK => EVENT_NACK,
            _ => return Err(WireError::UnknownMessageType { message_type }),
        },
        object,
    };
    let message = match fields.message_type {
        IDENTITY_CARD | IDENTITY_CARD_ACK => {
            let card = IdentityCard {
                my_gaplic_name: fields.optional_string("my_gaplic_name")?,
                my_roles: fields.roles_list("my_roles")?,
            };
            if fields.message_type == IDENTITY_CARD {
                Message::IdentityCard(card)
            } else {
                Message::IdentityCardAck(card)
            }
        }
        EVENT => Message::Event(IntraEvent {
            serial: fields.serial()?,
            event_name: fields.string("event_name")?,
            destination_gaplic: fields.optional_string("destination_gaplic")?,
            destination_role: fields.optional_string("destination_role")?,
            destination_gobj: fields.string("destination_gobj")?,
            origin_gaplic: fields.optional_string("origin_gaplic")?,
            origin_role: fields.origin_role()?,
            origin_gobj: fields.optional_string("origin_gobj")?,
            kw: fields.kw()?,
        }),
        EVENT_ACK => Message::EventAck(EventAck {
            serial: fields.serial()?,
            event_name: fields.string("event_name")?,
            reference: fields.optional_string("reference")?,
        }),
        _ => Message::EventNack(EventNack {
            serial: fields.serial()?,
            event_name: fields.string("event_name")?,
            error_message: fields.error_message()?,
        }),
    };
    fields.finish()?;
    Ok(message)
}

/// Encodes a message as GinsFSM's router reads it: one JSON object with
/// `message_type` first, then the type's fields in GinsFSM's order.
///
/// # Errors
///
/// [`WireError::Unencodable`] for a `kw` value JSON cannot carry (bytes,
/// a gobj id, a float that is not finite), naming the key.
///
/// # Examples
///
/// ```
/// use gaplic_router::wire::{encode, EventAck, Message};
///
/// let ack = Message::EventAck(EventAck { serial: Some(1), event_name: "EV_X".into(), reference: None });
/// assert_eq!(
///     String::from_utf8(encode(&ack)?).unwrap(),
///     r#"{"message_type":"__event_ack__","serial":1,"event_name":"EV_X","reference":null}"#
/// );
/// # Ok::<(), gaplic_router::wire::WireError>(())
/// ```
pub fn encode(message: &Message) -> Result<Vec<u8>, WireError> {
    encode_to_string(message).map(String::into_bytes)
}

/// [`encode`], as the text a websocket text frame carries.
///
/// # Errors
///
/// As [`encode`].
pub fn encode_to_string(message: &Message) -> Result<String, WireError> {
    // Written straight from borrowed fields, `message_type` first: no
    // intermediate map.
    #[derive(Serialize)]
    struct Card<'a> {
        message_type: &'static str,
        my_gaplic_name: &'a Option<String>,
        my_roles: &'a [String],
    }
    #[derive(Serialize)]
    struct Ack<'a> {
        message_type: &'static str,
        serial: Option<u64>,
        event_name: &'a str,
        reference: &'a Option<String>,
    }
    #[derive(Serialize)]
    struct Nack<'a> {
        message_type: &'static str,
        serial: Option<u64>,
        event_name: &'a str,
        error_message: &'a str,
    }
    let message_type = message.message_type();
    let written = match message {
        Message::IdentityCard(card) | Message::IdentityCardAck(card) => {
            serde_json::to_string(&Card {
                message_type,
                my_gaplic_name: &card.my_gaplic_name,
                my_roles: &card.my_roles,
            })
        }
        Message::Event(event) => return encode_event(event),
        Message::EventAck(ack) => serde_json::to_string(&Ack {
            message_type,
            serial: ack.serial,
            event_name: &ack.event_name,
            reference: &ack.reference,
        }),
        Message::EventNack(nack) => serde_json::to_string(&Nack {
            message_type,
            serial: nack.serial,
            event_name: &nack.event_name,
            error_message: &nack.error_message,
        }),
    };
    // Strings, numbers and a checked `kw`: nothing here can fail.
    Ok(written.unwrap_or_default())
}

/// An `__event__` message, encoded from a borrowed event.
///
/// # Errors
///
/// As [`encode`].
pub fn encode_event(event: &IntraEvent) -> Result<String, WireError> {
    #[derive(Serialize)]
    struct Event<'a> {
        message_type: &'static str,
        serial: Option<u64>,
        event_name: &'a str,
        destination_gaplic: &'a Option<String>,
        destination_role: &'a Option<String>,
        destination_gobj: &'a str,
        origin_gaplic: &'a Option<String>,
        origin_role: &'a Roles,
        origin_gobj: &'a Option<String>,
        kw: KwJson<'a>,
    }
    check_kw(&event.kw)?;
    let written = serde_json::to_string(&Event {
        message_type: EVENT,
        serial: event.serial,
        event_name: &event.event_name,
        destination_gaplic: &event.destination_gaplic,
        destination_role: &event.destination_role,
        destination_gobj: &event.destination_gobj,
        origin_gaplic: &event.origin_gaplic,
        origin_role: &event.origin_role,
        origin_gobj: &event.origin_gobj,
        kw: KwJson(&event.kw),
    });
    // Strings, numbers and a checked `kw`: nothing here can fail.
    Ok(written.unwrap_or_default())
}

/// A `Kw` written as a JSON object, without copying it into one.
struct KwJson<'a>(&'a Kw);

impl Serialize for KwJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0.iter() {
            map.serialize_entry(key, &ValueJson(value))?;
        }
        map.end()
    }
}

/// A `Value` written as JSON, without copying it; what JSON cannot carry
/// (refused by [`check_value`] first) is written `null`.
struct ValueJson<'a>(&'a Value);

impl Serialize for ValueJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        match self.0 {
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Uint(u) => serializer.serialize_u64(*u),
            Value::Float(x) if x.is_finite() => serializer.serialize_f64(*x),
            Value::Str(s) => serializer.serialize_str(s),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&ValueJson(item))?;
                }
                seq.end()
            }
            Value::Map(kw) => KwJson(kw).serialize(serializer),
            _ => serializer.serialize_unit(),
        }
    }
}

/// `kw` as a JSON object.
///
/// # Errors
///
/// [`WireError::Unencodable`] for bytes, gobj ids and floats that are not
/// finite, naming the key.
pub fn kw_to_json(kw: &Kw) -> Result<Map<String, Json>, WireError> {
    check_kw(kw)?;
    Ok(kw
        .iter()
        .map(|(key, value)| (key.to_owned(), value_to_json(value)))
        .collect())
}

/// A JSON object as a `Kw`, keys in order.
pub fn kw_from_json(object: Map<String, Json>) -> Kw {
    object
        .into_iter()
        .map(|(key, value)| (key, value_from_json(value)))
        .collect()
}

/// A JSON value as a [`Value`]: integers stay exact.
pub fn value_from_json(json: Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => number_to_value(&n),
        Json::String(s) => Value::Str(s),
        Json::Array(items) => Value::List(items.into_iter().map(value_from_json).collect()),
        Json::Object(object) => Value::Map(kw_from_json(object)),
    }
}

/// A [`Value`] as JSON; call [`check_value`] first: what JSON cannot carry
/// becomes `null` here.
fn value_to_json(value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number((*i).into()),
        Value::Uint(u) => Json::Number((*u).into()),
        Value::Float(x) => Number::from_f64(*x).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::String(s.clone()),
        Value::List(items) => Json::Array(items.iter().map(value_to_json).collect()),
        Value::Map(kw) => Json::Object(
            kw.iter()
                .map(|(k, v)| (k.to_owned(), value_to_json(v)))
                .collect(),
        ),
        _ => Json::Null,
    }
}

/// Checks that every value of `kw` can be written as JSON.
///
/// # Errors
///
/// [`WireError::Unencodable`] for bytes, gobj ids and floats that are not
/// finite, naming the key.
pub fn check_kw(kw: &Kw) -> Result<(), WireError> {
    match kw_fault(kw) {
        None => Ok(()),
        Some(fault) => Err(fault.into_error("")),
    }
}

/// Checks that `value` can be written as JSON; `path` names it.
///
/// # Errors
///
/// [`WireError::Unencodable`].
pub fn check_value(value: &Value, path: &str) -> Result<(), WireError> {
    match value_fault(value) {
        None => Ok(()),
        Some(fault) => Err(fault.into_error(path)),
    }
}

/// A value JSON cannot carry: why, and where, innermost step first. The
/// checks run on every send, so the path is only made for a fault.
struct Fault<'a> {
    steps: Vec<Step<'a>>,
    reason: &'static str,
}

/// A step of a path in a payload: a key of a map, an index of a list.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> Fault<'a> {
    fn at(mut self, step: Step<'a>) -> Self {
        self.steps.push(step);
        self
    }

    /// The error, its key the path from `path` down to the value.
    fn into_error(self, path: &str) -> WireError {
        let mut key = path.to_owned();
        for step in self.steps.iter().rev() {
            if !key.is_empty() {
                key.push('.');
            }
            match step {
                Step::Key(name) => key.push_str(name),
                Step::Index(i) => key.push_str(&i.to_string()),
            }
        }
        WireError::Unencodable {
            key,
            reason: self.reason,
        }
    }
}

fn kw_fault(kw: &Kw) -> Option<Fault<'_>> {
    kw.iter()
        .find_map(|(key, value)| value_fault(value).map(|fault| fault.at(Step::Key(key))))
}

fn value_fault(value: &Value) -> Option<Fault<'_>> {
    let refuse = |reason| {
        Some(Fault {
            steps: Vec::new(),
            reason,
        })
    };
    match value {
        Value::Float(x) if !x.is_finite() => refuse("JSON has no NaN or infinity"),
        Value::Bytes(_) => refuse("JSON has no bytes (send a string or a list of numbers)"),
        Value::Gobj(_) => refuse("a gobj id means nothing in another gaplic (send its name)"),
        Value::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| value_fault(item).map(|fault| fault.at(Step::Index(i)))),
        Value::Map(kw) => kw_fault(kw),
        _ => None,
    }
}

fn serialize_kw<S: serde::Serializer>(kw: &Kw, serializer: S) -> Result<S::Ok, S::Error> {
    KwJson(kw).serialize(serializer)
}

fn number_to_value(n: &Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::Int(i)
    } else if let Some(u) = n.as_u64() {
        Value::Uint(u)
    } else {
        Value::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// A short description of a value found, for an error.
fn found(json: &Json) -> String {
    match json {
        Json::Number(n) => format!("number {n}"),
        Json::String(s) if s.len() <= 40 => format!("string {s:?}"),
        other => json_kind(other).to_owned(),
    }
}

fn bad(field: &str, expected: &'static str, json: &Json) -> WireError {
    WireError::BadField {
        field: field.to_owned(),
        expected,
        found: found(json),
    }
}

/// The fields of a message still to read.
struct Fields {
    message_type: &'static str,
    object: Map<String, Json>,
}

impl Fields {
    fn take(&mut self, field: &'static str) -> Result<Json, WireError> {
        self.object.remove(field).ok_or(WireError::MissingField {
            message_type: self.message_type,
            field,
        })
    }

    fn string(&mut self, field: &'static str) -> Result<String, WireError> {
        match self.take(field)? {
            Json::String(s) => Ok(s),
            other => Err(bad(field, "a string", &other)),
        }
    }

    /// A string or `null`; an absent field is `null` too.
    fn optional_string(&mut self, field: &'static str) -> Result<Option<String>, WireError> {
        match self.object.remove(field) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => Ok(Some(s)),
            Some(other) => Err(bad(field, "a string or null", &other)),
        }
    }

    fn serial(&mut self) -> Result<Option<u64>, WireError> {
        match self.object.remove("serial") {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
            Some(other) => Err(bad("serial", "an integer from 0 or null", &other)),
        }
    }

    /// `my_roles`: a list of strings and `null`s (dropped), or one string.
    fn roles_list(&mut self, field: &'static str) -> Result<Vec<String>, WireError> {
        match self.take(field)? {
            Json::Array(items) => {
                let mut roles = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Json::String(role) => roles.push(role),
                        Json::Null => {}
                        other => {
                            return Err(WireError::BadField {
                                field: format!("{field}.{i}"),
                                expected: "a string or null",
                                found: found(&other),
                            });
                        }
                    }
                }
                Ok(roles)
            }
            Json::String(role) => Ok(vec![role]),
            other => Err(bad(field, "a list of strings", &other)),
        }
    }

    fn origin_role(&mut self) -> Result<Roles, WireError> {
        match self.object.remove("origin_role") {
            None | Some(Json::Null) => Ok(Roles::None),
            Some(Json::String(role)) => Ok(Roles::One(role)),
            Some(Json::Array(items)) => {
                self.object
                    .insert("origin_role".to_owned(), Json::Array(items));
                Ok(Roles::Many(self.roles_list("origin_role")?))
            }
            Some(other) => Err(bad("origin_role", "a string, a list or null", &other)),
        }
    }

    fn kw(&mut self) -> Result<Kw, WireError> {
        match self.object.remove("kw") {
            None | Some(Json::Null) => Ok(Kw::new()),
            Some(Json::Object(object)) => Ok(kw_from_json(object)),
            Some(other) => Err(bad("kw", "an object", &other)),
        }
    }

    /// GinsFSM puts the exception itself in some nacks, which its encoder
    /// writes as whatever `repr` gives; accept any scalar as text.
    fn error_message(&mut self) -> Result<String, WireError> {
        match self.object.remove("error_message") {
            None | Some(Json::Null) => Ok(String::new()),
            Some(Json::String(s)) => Ok(s),
            Some(Json::Number(n)) => Ok(n.to_string()),
            Some(Json::Bool(b)) => Ok(b.to_string()),
            Some(other) => Err(bad("error_message", "a string", &other)),
        }
    }

    /// Refuses the fields left over.
    fn finish(self) -> Result<(), WireError> {
        match self.object.into_iter().next() {
            None => Ok(()),
            Some((field, _)) => Err(WireError::UnexpectedField {
                message_type: self.message_type,
                field,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = DEFAULT_MAX_MESSAGE_SIZE;

    #[test]
    fn an_event_as_ginsfsm_writes_it_decodes_and_encodes_back_in_order() {
        let text = r#"{"message_type": "__event__", "serial": 2, "event_name": "EV_SET_TIMEOUT", "destination_gaplic": "TOTO", "destination_role": "", "destination_gobj": "sample2", "origin_gaplic": "TITI", "origin_role": "titi", "origin_gobj": "sample1", "kw": {"timeout": 2}}"#;
        let message = decode(text.as_bytes(), LIMIT).unwrap();
        let Message::Event(event) = &message else {
            panic!("{message:?}")
        };
        assert_eq!(event.serial, Some(2));
        assert_eq!(event.destination_role.as_deref(), Some(""));
        assert_eq!(event.origin_role, Roles::One("titi".into()));
        assert_eq!(event.kw.get::<i64>("timeout"), Ok(2));
        let again = String::from_utf8(encode(&message).unwrap()).unwrap();
        assert_eq!(again, text.replace(": ", ":").replace(", ", ","));
    }

    #[test]
    fn python_escapes_and_surrogate_pairs_are_read() {
        let text = r#"{"message_type":"__event__","serial":1,"event_name":"EV_X","destination_gaplic":"A","destination_role":null,"destination_gobj":"g","origin_gaplic":"B","origin_role":["toto", null],"origin_gobj":null,"kw":{"s":"\u00e9\ud83d\ude00<\/b>","big":18446744073709551615,"neg":-3,"f":1.5,"l":[true,null,{}]}}"#;
        let Message::Event(event) = decode(text.as_bytes(), LIMIT).unwrap() else {
            panic!()
        };
        assert_eq!(event.kw.get::<String>("s").unwrap(), "é😀</b>");
        assert_eq!(event.kw.value("big"), Some(&Value::Uint(u64::MAX)));
        assert_eq!(event.kw.value("neg"), Some(&Value::Int(-3)));
        assert_eq!(event.kw.value("f"), Some(&Value::Float(1.5)));
        assert_eq!(
            event.kw.value("l"),
            Some(&Value::List(vec![
                Value::Bool(true),
                Value::Null,
                Value::Map(Kw::new())
            ]))
        );
        assert_eq!(event.origin_role, Roles::Many(vec!["toto".into()]));
        assert_eq!(event.destination_role, None);
        let encoded = encode(&Message::Event(event)).unwrap();
        let Message::Event(back) = decode(&encoded, LIMIT).unwrap() else {
            panic!()
        };
        assert_eq!(back.kw.value("big"), Some(&Value::Uint(u64::MAX)));
    }

    #[test]
    fn cards_accept_null_names_and_roles() {
        let text = br#"{"message_type": "__identity_card__", "my_gaplic_name": null, "my_roles": [null, "^toto", "=gaplic/1"]}"#;
        let Message::IdentityCard(card) = decode(text, LIMIT).unwrap() else {
            panic!()
        };
        assert_eq!(card.my_gaplic_name, None);
        assert_eq!(card.my_roles, ["^toto", "=gaplic/1"]);
        assert_eq!(
            RoleEntry::parse(&card.my_roles[0]),
            RoleEntry::BackWay("toto")
        );
        assert_eq!(RoleEntry::parse("*x").routable(), Some("x"));
        assert_eq!(RoleEntry::parse("^=gaplic/1").routable(), None);
        assert_eq!(RoleEntry::parse("=gaplic/1"), RoleEntry::Token("gaplic/1"));
    }

    #[test]
    fn faults_name_the_field_and_the_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"{", "message is not JSON"),
            (b"[]", "message is a JSON array, not an object"),
            (b"{}", "message without field `message_type`"),
            (br#"{"message_type": 3}"#, "field `message_type`: expected a string, found number 3"),
            (br#"{"message_type": "__hello__"}"#, "unknown message_type `__hello__`"),
            (
                br#"{"message_type": "__event_ack__", "serial": 1}"#,
                "__event_ack__ without field `event_name`",
            ),
            (
                br#"{"message_type": "__event_ack__", "serial": -1, "event_name": "E"}"#,
                "field `serial`: expected an integer from 0 or null, found number -1",
            ),
            (
                br#"{"message_type": "__event_ack__", "serial": 1, "event_name": "E", "extra": 1}"#,
                "__event_ack__ has an unexpected field `extra`",
            ),
            (
                br#"{"message_type": "__identity_card__", "my_gaplic_name": "a", "my_roles": [1]}"#,
                "field `my_roles.0`: expected a string or null, found number 1",
            ),
            (
                br#"{"message_type":"__event__","serial":1,"event_name":"E","destination_gobj":"g","kw":[]}"#,
                "field `kw`: expected an object, found array",
            ),
        ];
        for (text, expected) in cases {
            let error = decode(text, LIMIT).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{error:?} vs {expected:?}");
        }
        assert_eq!(
            decode(&[b' '; 11], 10).unwrap_err(),
            WireError::TooLarge {
                size: 11,
                limit: 10
            }
        );
    }

    #[test]
    fn the_fast_path_and_the_long_way_agree() {
        let samples: &[&[u8]] = &[
            br#"{"message_type": "__event__", "serial": 2, "event_name": "E", "destination_gaplic": "T", "destination_role": "", "destination_gobj": "g", "origin_gaplic": "A", "origin_role": ["x", null], "origin_gobj": null, "kw": {"a": [1, -2, 3.5, 18446744073709551615, {"b": null}], "s": "\u00e9"}}"#,
            br#"{"message_type": "__event__", "event_name": "E", "destination_gobj": "g"}"#,
            br#"{"message_type": "__event_ack__", "serial": null, "event_name": "E", "reference": "r"}"#,
            br#"{"message_type": "__event_nack__", "serial": 1, "event_name": "E", "error_message": null}"#,
            br#"{"message_type": "__identity_card__", "my_gaplic_name": "n", "my_roles": "solo"}"#,
            br#"{"message_type": "__identity_card_ack__", "my_roles": [null, "*r"]}"#,
            br#"{"message_type": "__event_nack__", "serial": 1, "event_name": "E", "error_message": 5}"#,
            br#"{"message_type": "__event__", "event_name": "E", "destination_gobj": "g", "kw": {"a": 1, "a": 2}}"#,
            // The type elsewhere than first, or spelled with an escape.
            br#"{"serial": 3, "message_type": "__event_ack__", "event_name": "E", "reference": null}"#,
            br#"{"event_name": "E", "destination_gobj": "g", "message_type": "__event__"}"#,
            br#" {	"message_type"	:	"\u005f_event_nack__", "serial": 1, "event_name": "E", "error_message": "no"}"#,
        ];
        for sample in samples {
            let fast = fast::decode(*sample);
            let reference = decode_reference(sample).unwrap();
            if let Some(fast) = fast {
                assert_eq!(fast, reference, "{}", String::from_utf8_lossy(sample));
            }
            assert_eq!(decode(sample, LIMIT).unwrap(), reference);
            let text = std::str::from_utf8(sample).unwrap();
            assert_eq!(decode_text(text, LIMIT).unwrap(), reference);
        }
        assert!(
            fast::decode(samples[0]).is_some(),
            "the common case takes the fast path"
        );
    }

    #[test]
    fn a_leading_message_type_is_read_without_parsing() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (
                br#"{"message_type":"__event_ack__","serial":1}"#,
                Some(EVENT_ACK),
            ),
            (b"\r\n{ \"message_type\" :\t\"__event__\", ", Some(EVENT)),
            (
                br#"{"message_type": "__identity_card_ack__"}"#,
                Some(IDENTITY_CARD_ACK),
            ),
            (br#"{"message_type": "__event__x", "serial": 1}"#, None),
            (br#"{"message_type": "\u005f_event__"}"#, None),
            (br#"{"serial": 1, "message_type": "__event__"}"#, None),
            (br#"{"message_type": 1}"#, None),
            (br#"{"message_type": "__event_"#, None),
            (b"", None),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                fast::leading_message_type(bytes),
                *expected,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let mut text = String::from(
            r#"{"message_type":"__event__","serial":1,"event_name":"E","destination_gobj":"g","kw":{"a":"#,
        );
        text.push_str(&"[".repeat(100_000));
        let error = decode(text.as_bytes(), usize::MAX).unwrap_err();
        assert!(matches!(error, WireError::NotJson { .. }), "{error}");
    }

    #[test]
    fn unencodable_values_are_named() {
        let event = IntraEvent {
            kw: Kw::new().with("nested", Kw::new().with("raw", vec![1_u8, 2])),
            ..IntraEvent::default()
        };
        let error = encode(&Message::Event(event)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "kw key `nested.raw` cannot be sent: JSON has no bytes (send a string or a list of numbers)"
        );
        let nan = Kw::new().with("x", Value::List(vec![Value::Float(f64::NAN)]));
        assert!(kw_to_json(&nan).unwrap_err().to_string().contains("`x.0`"));
    }
}
