//! `GobjError`: every way a gobj operation can fail.

use std::fmt;

use crate::{KwError, Value};

/// What an action returns to the gobj that sent the event: a value
/// (`Value::Null` for "nothing"), or an error.
pub type Ret = Result<Value, GobjError>;

/// Why an operation on a gobj failed.
///
/// Each variant names the gclass, the gobj, the event or the key involved,
/// so the message alone tells what went wrong and where. No operation of
/// the runtime panics on bad input; it returns one of these.
///
/// # Examples
///
/// ```
/// use gaplic_runtime::GobjError;
///
/// let e = GobjError::NotAccepted {
///     gclass: "OnTimer",
///     gobj: "t1".into(),
///     state: "ST_IDLE",
///     event: "EV_STOP",
/// };
/// assert!(e.is_not_accepted());
/// assert_eq!(
///     e.to_string(),
///     "event `EV_STOP` not accepted by gobj `t1` of `OnTimer` in state `ST_IDLE`"
/// );
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum GobjError {
    /// An event arrived by a name the gclass does not declare as input.
    UnknownEvent {
        /// The receiving gclass.
        gclass: &'static str,
        /// The receiving gobj.
        gobj: String,
        /// The name that arrived.
        event: String,
    },
    /// The current state has no row for the event.
    NotAccepted {
        /// The receiving gclass.
        gclass: &'static str,
        /// The receiving gobj.
        gobj: String,
        /// The state the gobj was in.
        state: &'static str,
        /// The event.
        event: &'static str,
    },
    /// The payload lacks a key the gclass declares for the event, or holds
    /// it with the wrong type. The state did not change.
    BadPayload {
        /// The receiving gclass.
        gclass: &'static str,
        /// The receiving gobj.
        gobj: String,
        /// The event.
        event: &'static str,
        /// What is wrong with which key.
        error: KwError,
    },
    /// A state was named that the gclass does not declare.
    UnknownState {
        /// The gclass.
        gclass: &'static str,
        /// The name given.
        state: String,
    },
    /// A gobj was created with a keyword that is not one of its attrs.
    UnknownAttr {
        /// The gclass.
        gclass: &'static str,
        /// The keyword given.
        attr: String,
    },
    /// A gobj was created with an attr value of the wrong type.
    BadAttr {
        /// The gclass.
        gclass: &'static str,
        /// What is wrong with which attr.
        error: KwError,
    },
    /// An action read its payload with [`Kw::get`](crate::Kw::get) and
    /// `?`, and the key was missing or of another type.
    Kw(KwError),
    /// An action failed for a reason of its own.
    Failed(String),
}

impl GobjError {
    /// An action's own failure, with a message that says why.
    pub fn failed(message: impl fmt::Display) -> Self {
        GobjError::Failed(message.to_string())
    }

    /// Whether the event was refused by the machine: unknown to the gclass,
    /// or not accepted in the current state (GinsFSM's
    /// `EventNotAcceptedError`).
    pub const fn is_not_accepted(&self) -> bool {
        matches!(
            self,
            GobjError::UnknownEvent { .. } | GobjError::NotAccepted { .. }
        )
    }
}

impl fmt::Display for GobjError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GobjError::UnknownEvent {
                gclass,
                gobj,
                event,
            } => write!(
                f,
                "event `{event}` is not an input event of gobj `{gobj}` of `{gclass}`"
            ),
            GobjError::NotAccepted {
                gclass,
                gobj,
                state,
                event,
            } => write!(
                f,
                "event `{event}` not accepted by gobj `{gobj}` of `{gclass}` in state `{state}`"
            ),
            GobjError::BadPayload {
                gclass,
                gobj,
                event,
                error,
            } => write!(
                f,
                "event `{event}` for gobj `{gobj}` of `{gclass}` has a bad payload: {error}"
            ),
            GobjError::UnknownState { gclass, state } => {
                write!(f, "`{gclass}` has no state `{state}`")
            }
            GobjError::UnknownAttr { gclass, attr } => {
                write!(f, "`{gclass}` has no attr `{attr}`")
            }
            GobjError::BadAttr { gclass, error } => {
                write!(f, "bad attr of `{gclass}`: {error}")
            }
            GobjError::Kw(error) => write!(f, "bad payload: {error}"),
            GobjError::Failed(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for GobjError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GobjError::BadPayload { error, .. }
            | GobjError::BadAttr { error, .. }
            | GobjError::Kw(error) => Some(error),
            _ => None,
        }
    }
}

impl From<KwError> for GobjError {
    fn from(error: KwError) -> Self {
        GobjError::Kw(error)
    }
}
