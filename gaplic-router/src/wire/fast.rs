//! The fast path of [`decode`](crate::wire::decode): serde's derived readers, straight into
//! the message's fields, no JSON tree. It takes only what
//! [`decode_reference`](crate::wire::decode_reference) takes, and gives the same message; anything else
//! (a fault, a duplicate key, a field of another message type) is left to
//! [`decode_reference`](crate::wire::decode_reference).

use std::fmt;

use gaplic_runtime::{Kw, Value};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{
    EVENT, EVENT_ACK, EVENT_NACK, EventAck, EventNack, IDENTITY_CARD, IDENTITY_CARD_ACK,
    IdentityCard, IntraEvent, Message, Roles,
};

/// What the fast path reads: bytes, or text whose UTF-8 serde_json
/// then does not check again.
pub(super) trait Input<'de>: Copy {
    /// `self` read whole as a `T`.
    fn parse<T: Deserialize<'de>>(self) -> Option<T>;
    /// The raw bytes.
    fn bytes(self) -> &'de [u8];
}

impl<'de> Input<'de> for &'de [u8] {
    fn parse<T: Deserialize<'de>>(self) -> Option<T> {
        serde_json::from_slice(self).ok()
    }
    fn bytes(self) -> &'de [u8] {
        self
    }
}

impl<'de> Input<'de> for &'de str {
    fn parse<T: Deserialize<'de>>(self) -> Option<T> {
        serde_json::from_str(self).ok()
    }
    fn bytes(self) -> &'de [u8] {
        self.as_bytes()
    }
}

/// The message type of a message that starts with it, as GinsFSM and
/// this crate write them (`{"message_type": "__event__", ...`), read
/// without parsing the rest: one of the five, or `None` for anything
/// else (another order, an escape in the name, an unknown type).
pub(super) fn leading_message_type(bytes: &[u8]) -> Option<&'static str> {
    fn skip_space(bytes: &[u8]) -> &[u8] {
        let start = bytes
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(bytes.len());
        &bytes[start..]
    }
    let rest = skip_space(bytes).strip_prefix(b"{")?;
    let rest = skip_space(rest).strip_prefix(b"\"message_type\"")?;
    let rest = skip_space(rest).strip_prefix(b":")?;
    let rest = skip_space(rest).strip_prefix(b"\"")?;
    let name = &rest[..rest.iter().position(|b| *b == b'"')?];
    [
        EVENT,
        EVENT_ACK,
        EVENT_NACK,
        IDENTITY_CARD,
        IDENTITY_CARD_ACK,
    ]
    .into_iter()
    .find(|known| known.as_bytes() == name)
}

pub(super) fn decode<'de>(input: impl Input<'de>) -> Option<Message> {
    #[derive(Deserialize)]
    struct Kind<'a> {
        #[serde(borrow)]
        message_type: std::borrow::Cow<'a, str>,
    }
    // Each message is read once when its type comes first, as it
    // does from GinsFSM and from gaplic: a failed attempt costs a
    // parse and an error message.
    let message_type = match leading_message_type(input.bytes()) {
        Some(known) => std::borrow::Cow::Borrowed(known),
        None => {
            // Events are most of the traffic: tried first, in one pass.
            if let Some(event) = input.parse::<EventIn<'de>>()
                && event.message_type == EVENT
            {
                return Some(event.into_message());
            }
            input.parse::<Kind<'de>>()?.message_type
        }
    };
    match &*message_type {
        EVENT => input
            .parse::<EventIn<'de>>()
            .filter(|event| event.message_type == EVENT)
            .map(EventIn::into_message),
        EVENT_ACK => input.parse::<AckIn>().map(|a| {
            Message::EventAck(EventAck {
                serial: a.serial,
                event_name: a.event_name,
                reference: a.reference,
            })
        }),
        EVENT_NACK => input.parse::<NackIn>().map(|n| {
            Message::EventNack(EventNack {
                serial: n.serial,
                event_name: n.event_name,
                error_message: n.error_message.unwrap_or_default(),
            })
        }),
        IDENTITY_CARD | IDENTITY_CARD_ACK => {
            let card = input.parse::<CardIn>()?;
            let card = IdentityCard {
                my_gaplic_name: card.my_gaplic_name,
                my_roles: card.my_roles.0,
            };
            Some(if message_type == IDENTITY_CARD {
                Message::IdentityCard(card)
            } else {
                Message::IdentityCardAck(card)
            })
        }
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventIn<'a> {
    #[serde(borrow)]
    message_type: std::borrow::Cow<'a, str>,
    #[serde(default)]
    serial: Option<u64>,
    event_name: String,
    #[serde(default)]
    destination_gaplic: Option<String>,
    #[serde(default)]
    destination_role: Option<String>,
    destination_gobj: String,
    #[serde(default)]
    origin_gaplic: Option<String>,
    #[serde(default)]
    origin_role: RolesIn,
    #[serde(default)]
    origin_gobj: Option<String>,
    #[serde(default)]
    kw: Option<KwIn>,
}

impl EventIn<'_> {
    fn into_message(self) -> Message {
        Message::Event(IntraEvent {
            serial: self.serial,
            event_name: self.event_name,
            destination_gaplic: self.destination_gaplic,
            destination_role: self.destination_role,
            destination_gobj: self.destination_gobj,
            origin_gaplic: self.origin_gaplic,
            origin_role: self.origin_role.0,
            origin_gobj: self.origin_gobj,
            kw: self.kw.map(|kw| kw.0).unwrap_or_default(),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckIn {
    #[allow(dead_code)]
    message_type: IgnoredAny,
    #[serde(default)]
    serial: Option<u64>,
    event_name: String,
    #[serde(default)]
    reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NackIn {
    #[allow(dead_code)]
    message_type: IgnoredAny,
    #[serde(default)]
    serial: Option<u64>,
    event_name: String,
    #[serde(default)]
    error_message: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardIn {
    #[allow(dead_code)]
    message_type: IgnoredAny,
    #[serde(default)]
    my_gaplic_name: Option<String>,
    my_roles: RoleList,
}

/// `origin_role`: a string, a list of strings and nulls, or null.
#[derive(Default)]
struct RolesIn(Roles);

impl<'de> Deserialize<'de> for RolesIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RolesIn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, a list or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<RolesIn, E> {
                Ok(RolesIn(Roles::None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RolesIn, E> {
                Ok(RolesIn(Roles::One(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<RolesIn, E> {
                Ok(RolesIn(Roles::One(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RolesIn, A::Error> {
                Ok(RolesIn(Roles::Many(read_roles(seq)?)))
            }
        }
        d.deserialize_any(V)
    }
}

/// `my_roles`: a list of strings and nulls (dropped), or one string.
struct RoleList(Vec<String>);

impl<'de> Deserialize<'de> for RoleList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RoleList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RoleList, E> {
                Ok(RoleList(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RoleList, A::Error> {
                Ok(RoleList(read_roles(seq)?))
            }
        }
        d.deserialize_any(V)
    }
}

fn read_roles<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Vec<String>, A::Error> {
    let mut roles = Vec::new();
    while let Some(role) = seq.next_element::<Option<String>>()? {
        roles.extend(role);
    }
    Ok(roles)
}

/// A `kw` object, read straight into a `Kw`.
struct KwIn(Kw);

impl<'de> Deserialize<'de> for KwIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match ValueIn::deserialize(d)?.0 {
            Value::Map(kw) => Ok(KwIn(kw)),
            _ => Err(de::Error::custom("kw is not an object")),
        }
    }
}

/// Any JSON value, read straight into a `Value`, integers exact.
struct ValueIn(Value);

impl<'de> Deserialize<'de> for ValueIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ValueIn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<ValueIn, E> {
                Ok(ValueIn(Value::Null))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ValueIn, E> {
                Ok(ValueIn(Value::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ValueIn, E> {
                Ok(ValueIn(Value::Int(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ValueIn, E> {
                Ok(ValueIn(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ValueIn, E> {
                Ok(ValueIn(Value::Float(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ValueIn, E> {
                Ok(ValueIn(Value::Str(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<ValueIn, E> {
                Ok(ValueIn(Value::Str(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ValueIn, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(ValueIn(item)) = seq.next_element()? {
                    items.push(item);
                }
                Ok(ValueIn(Value::List(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ValueIn, A::Error> {
                let mut kw = Kw::new();
                while let Some((key, ValueIn(value))) = map.next_entry::<String, ValueIn>()? {
                    // A repeated key: the long way keeps the last
                    // value where the first was; leave it to that.
                    if kw.insert(key, value).is_some() {
                        return Err(de::Error::custom("repeated key"));
                    }
                }
                Ok(ValueIn(Value::Map(kw)))
            }
        }
        d.deserialize_any(V)
    }
}
