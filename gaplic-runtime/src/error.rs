//! `GobjError`: every way a gobj operation can fail.

use std::fmt;

use crate::{GobjId, KwError, Value};

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
    /// No gobj has this unique name.
    UnknownGobj {
        /// The name asked for.
        name: String,
    },
    /// The gobj was destroyed (or its id never existed in this gaplic).
    Destroyed {
        /// The id used.
        gobj: GobjId,
    },
    /// A unique name is taken already.
    DuplicateName {
        /// The name.
        name: String,
    },
    /// The event is not an output event of the publisher, so it cannot be
    /// broadcast or subscribed to.
    NotOutput {
        /// The publisher's gclass.
        gclass: &'static str,
        /// The event.
        event: String,
    },
    /// The receiver was in the middle of an action: the event is queued and
    /// delivered right after that action returns (run to completion). Its
    /// result is traced, not returned.
    Queued {
        /// The receiving gobj.
        gobj: GobjId,
        /// The event.
        event: String,
    },
    /// An action panicked; the gaplic goes on.
    Panicked {
        /// The gclass.
        gclass: &'static str,
        /// The gobj.
        gobj: String,
        /// The event it was handling (or the hook it was running).
        event: &'static str,
        /// The panic message.
        message: String,
    },
    /// The gobj runs outside any gaplic (a [`Machine`](crate::Machine) of
    /// its own), so it cannot reach other gobjs.
    NoGaplic {
        /// The gobj.
        gobj: String,
    },
    /// No gaplic of this name runs in this process.
    UnknownGaplic {
        /// The name asked for.
        name: String,
    },
    /// The gaplic has stopped and takes no more events.
    Stopped {
        /// The gaplic.
        gaplic: String,
    },
    /// A socket address that cannot be used as given.
    BadAddress {
        /// The address as given.
        address: String,
        /// Why.
        reason: String,
    },
    /// The system refused a socket operation on an address (in use,
    /// refused, no permission...).
    Socket {
        /// What was being done (`"cannot listen on"`).
        context: &'static str,
        /// The address.
        address: String,
        /// The system's error.
        error: std::io::Error,
    },
    /// The operating system refused something the gaplic needs (its poll,
    /// its thread).
    Io {
        /// What was being done.
        context: &'static str,
        /// The system's error.
        error: std::io::Error,
    },
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

    /// Whether a direct send found its receiver mid-action and queued the
    /// event (run to completion): not a failure of the event itself.
    pub const fn is_queued(&self) -> bool {
        matches!(self, GobjError::Queued { .. })
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
            GobjError::UnknownGobj { name } => write!(f, "no gobj is named `{name}`"),
            GobjError::Destroyed { gobj } => write!(f, "gobj {gobj} is destroyed"),
            GobjError::DuplicateName { name } => {
                write!(f, "unique name `{name}` is taken already")
            }
            GobjError::NotOutput { gclass, event } => {
                write!(f, "event `{event}` is not an output event of `{gclass}`")
            }
            GobjError::Queued { gobj, event } => write!(
                f,
                "gobj {gobj} is mid-action: event `{event}` is queued until the action returns"
            ),
            GobjError::Panicked {
                gclass,
                gobj,
                event,
                message,
            } => write!(
                f,
                "gobj `{gobj}` of `{gclass}` panicked handling `{event}`: {message}"
            ),
            GobjError::NoGaplic { gobj } => {
                write!(
                    f,
                    "gobj `{gobj}` runs outside a gaplic and cannot reach other gobjs"
                )
            }
            GobjError::UnknownGaplic { name } => {
                write!(f, "no gaplic named `{name}` runs in this process")
            }
            GobjError::Stopped { gaplic } => write!(f, "gaplic `{gaplic}` has stopped"),
            GobjError::Io { context, error } => write!(f, "{context}: {error}"),
            GobjError::BadAddress { address, reason } => {
                write!(f, "bad socket address `{address}`: {reason}")
            }
            GobjError::Socket {
                context,
                address,
                error,
            } => write!(f, "{context} `{address}`: {error}"),
        }
    }
}

impl std::error::Error for GobjError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GobjError::BadPayload { error, .. }
            | GobjError::BadAttr { error, .. }
            | GobjError::Kw(error) => Some(error),
            GobjError::Io { error, .. } | GobjError::Socket { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<KwError> for GobjError {
    fn from(error: KwError) -> Self {
        GobjError::Kw(error)
    }
}
