//! `GobjError`: every way a gobj operation can fail.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use crate::id::GobjId;
use crate::kw::KwError;
use crate::value::Value;

/// What an action returns to the gobj that sent the event: a value
/// (`Value::Null` for "nothing"), or an error.
pub type Ret = Result<Value, GobjError>;

/// An error of the runtime or of an action.
///
/// It is one pointer wide, so that [`Ret`], which every action returns,
/// stays small; what went wrong is its [`kind`](GobjError::kind), which
/// names the gclass, the gobj, the event or the key involved. No operation
/// of the runtime panics on bad input; it returns one of these.
///
/// # Examples
///
/// ```
/// use gaplic::{ErrorKind, GobjError};
///
/// let e = GobjError::from(ErrorKind::NotAccepted {
///     gclass: "OnTimer",
///     gobj: "t1".into(),
///     state: "ST_IDLE",
///     event: "EV_STOP",
/// });
/// assert!(e.is_not_accepted());
/// assert_eq!(
///     e.to_string(),
///     "event `EV_STOP` not accepted by gobj `t1` of `OnTimer` in state `ST_IDLE`"
/// );
///
/// // An action's own failure: a message, or any error.
/// let e = GobjError::failed("no route to the printer");
/// assert!(matches!(e.kind(), ErrorKind::Failed(_)));
/// ```
pub struct GobjError {
    kind: Box<ErrorKind>,
}

/// What went wrong, with the names involved: the [`kind`](GobjError::kind)
/// of a [`GobjError`].
///
/// The message of each is one line that names what was wrong and where;
/// it includes the message of an underlying error, which is therefore not
/// also given as [`source`](std::error::Error::source) (except for
/// [`Failed`](ErrorKind::Failed), which is transparent).
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An event arrived by a name the gclass does not declare as input.
    UnknownEvent {
        /// The receiving gclass.
        gclass: &'static str,
        /// The receiving gobj.
        gobj: Arc<str>,
        /// The name that arrived.
        event: String,
    },
    /// The current state has no row for the event.
    NotAccepted {
        /// The receiving gclass.
        gclass: &'static str,
        /// The receiving gobj.
        gobj: Arc<str>,
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
        gobj: Arc<str>,
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
    /// A gobj was created with an attr value of the wrong type, or out of
    /// its range.
    BadAttr {
        /// The gclass.
        gclass: &'static str,
        /// What is wrong with which attr.
        error: KwError,
    },
    /// An action read its payload with [`Kw::get`](crate::Kw::get) and
    /// `?`, and the key was missing or of another type.
    Kw(KwError),
    /// An action failed for a reason of its own: a message or an error of
    /// another library, kept whole.
    Failed(Box<dyn StdError + Send + Sync>),
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
    /// There is no such subscription (to end).
    NoSubscription {
        /// The publisher, when known (not for a subscription id that
        /// ended already).
        publisher: Option<GobjId>,
        /// The event, `None` for "all events" (or unknown).
        event: Option<String>,
    },
    /// The subscription is hard: only `force`, or the death of either end,
    /// ends it.
    HardSubscription {
        /// The publisher.
        publisher: GobjId,
        /// The event, `None` for "all events".
        event: Option<&'static str>,
    },
    /// An action, a hook or a callback panicked; the gaplic goes on.
    Panicked {
        /// The gclass (`"-"` for a callback).
        gclass: &'static str,
        /// The gobj (`"-"` for a callback).
        gobj: Arc<str>,
        /// The event it was handling, or the hook or callback it was
        /// running.
        event: &'static str,
        /// The panic message.
        message: String,
    },
    /// Direct sends nested deeper than the gaplic's limit
    /// ([`GaplicBuilder::max_send_depth`](crate::GaplicBuilder::max_send_depth)):
    /// a cycle of sends, or a chain too long for the thread's stack. The
    /// event was not delivered; `post` breaks such chains.
    TooDeep {
        /// The gobj the event was for.
        gobj: GobjId,
        /// The event.
        event: String,
        /// The limit.
        limit: usize,
    },
    /// The gobj is in another gaplic, where this cannot reach: a
    /// subscription is between gobjs of one gaplic (another gaplic's
    /// events come through its router).
    NotLocal {
        /// The destination as given.
        dest: String,
    },
    /// The gobj is in the middle of one of its actions: what the gaplic
    /// would do to it (read or write its attrs by name) is the action's own
    /// business then, through its fields.
    Busy {
        /// The gobj.
        gobj: GobjId,
    },
    /// The gobj runs outside any gaplic (a [`Machine`](crate::Machine) of
    /// its own), so it cannot reach other gobjs.
    NoGaplic {
        /// The gobj.
        gobj: Arc<str>,
    },
    /// An event came from no gobj (a test, the launcher), so there is no
    /// sender to reply to.
    NoSender {
        /// The event.
        event: &'static str,
    },
    /// No gaplic of this name runs in this process.
    UnknownGaplic {
        /// The name asked for.
        name: String,
    },
    /// A gaplic of this name runs in this process already.
    DuplicateGaplic {
        /// The name.
        name: String,
    },
    /// The gaplic has stopped (or is stopping) and takes no more events.
    Stopped {
        /// The gaplic.
        gaplic: String,
    },
    /// [`GaplicHandle::join`](crate::GaplicHandle::join) was called from
    /// the gaplic's own thread, which would wait for itself.
    JoinOwnThread {
        /// The gaplic.
        gaplic: String,
    },
    /// The thread of a gaplic ended without finishing its setup, or
    /// panicked outside any action.
    ThreadFailed {
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
    /// An action's own failure: a message (`&str`, `String`) or any error
    /// (kept whole, as [`ErrorKind::Failed`]).
    pub fn failed(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        ErrorKind::Failed(error.into()).into()
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// What went wrong, by value.
    pub fn into_kind(self) -> ErrorKind {
        *self.kind
    }

    /// Whether the event was refused by the machine: unknown to the gclass,
    /// or not accepted in the current state (GinsFSM's
    /// `EventNotAcceptedError`).
    pub fn is_not_accepted(&self) -> bool {
        matches!(
            *self.kind,
            ErrorKind::UnknownEvent { .. } | ErrorKind::NotAccepted { .. }
        )
    }

    /// Whether the gobj addressed is gone.
    pub fn is_destroyed(&self) -> bool {
        matches!(*self.kind, ErrorKind::Destroyed { .. })
    }

    /// Whether the gaplic has stopped.
    pub fn is_stopped(&self) -> bool {
        matches!(*self.kind, ErrorKind::Stopped { .. })
    }
}

impl From<ErrorKind> for GobjError {
    fn from(kind: ErrorKind) -> Self {
        GobjError {
            kind: Box::new(kind),
        }
    }
}

impl From<KwError> for GobjError {
    fn from(error: KwError) -> Self {
        ErrorKind::Kw(error).into()
    }
}

impl fmt::Debug for GobjError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.kind, f)
    }
}

impl fmt::Display for GobjError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl StdError for GobjError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &*self.kind {
            ErrorKind::Failed(error) => error.source(),
            _ => None,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::UnknownEvent {
                gclass,
                gobj,
                event,
            } => write!(
                f,
                "event `{event}` is not an input event of gobj `{gobj}` of `{gclass}`"
            ),
            ErrorKind::NotAccepted {
                gclass,
                gobj,
                state,
                event,
            } => write!(
                f,
                "event `{event}` not accepted by gobj `{gobj}` of `{gclass}` in state `{state}`"
            ),
            ErrorKind::BadPayload {
                gclass,
                gobj,
                event,
                error,
            } => write!(
                f,
                "event `{event}` for gobj `{gobj}` of `{gclass}` has a bad payload: {error}"
            ),
            ErrorKind::UnknownState { gclass, state } => {
                write!(f, "`{gclass}` has no state `{state}`")
            }
            ErrorKind::UnknownAttr { gclass, attr } => {
                write!(f, "`{gclass}` has no attr `{attr}`")
            }
            ErrorKind::BadAttr { gclass, error } => write!(f, "bad attr of `{gclass}`: {error}"),
            ErrorKind::Kw(error) => write!(f, "bad payload: {error}"),
            ErrorKind::Failed(error) => fmt::Display::fmt(error, f),
            ErrorKind::UnknownGobj { name } => write!(f, "no gobj is named `{name}`"),
            ErrorKind::Destroyed { gobj } => write!(f, "gobj {gobj} is destroyed"),
            ErrorKind::DuplicateName { name } => {
                write!(f, "unique name `{name}` is taken already")
            }
            ErrorKind::NotOutput { gclass, event } => {
                write!(f, "event `{event}` is not an output event of `{gclass}`")
            }
            ErrorKind::NoSubscription { publisher, event } => match (publisher, event) {
                (Some(publisher), Some(event)) => {
                    write!(f, "no such subscription to `{event}` of gobj {publisher}")
                }
                (Some(publisher), None) => {
                    write!(f, "no such subscription to all events of gobj {publisher}")
                }
                (None, _) => f.write_str("the subscription has ended already"),
            },
            ErrorKind::HardSubscription { publisher, event } => write!(
                f,
                "the subscription to `{}` of gobj {publisher} is hard: only force ends it",
                event.unwrap_or("all events")
            ),
            ErrorKind::Panicked {
                gclass,
                gobj,
                event,
                message,
            } => write!(
                f,
                "gobj `{gobj}` of `{gclass}` panicked handling `{event}`: {message}"
            ),
            ErrorKind::TooDeep { gobj, event, limit } => write!(
                f,
                "event `{event}` for gobj {gobj} not delivered: direct sends nested deeper than \
                 {limit} (a cycle of sends? post breaks it)"
            ),
            ErrorKind::NotLocal { dest } => {
                write!(f, "{dest} is in another gaplic, which this cannot reach")
            }
            ErrorKind::Busy { gobj } => write!(
                f,
                "gobj {gobj} is in the middle of an action; it reaches its attrs through its fields"
            ),
            ErrorKind::NoGaplic { gobj } => write!(
                f,
                "gobj `{gobj}` runs outside a gaplic and cannot reach other gobjs"
            ),
            ErrorKind::NoSender { event } => {
                write!(
                    f,
                    "event `{event}` came from no gobj: there is nobody to reply to"
                )
            }
            ErrorKind::UnknownGaplic { name } => {
                write!(f, "no gaplic named `{name}` runs in this process")
            }
            ErrorKind::DuplicateGaplic { name } => {
                write!(f, "a gaplic named `{name}` runs in this process already")
            }
            ErrorKind::Stopped { gaplic } => write!(f, "gaplic `{gaplic}` has stopped"),
            ErrorKind::JoinOwnThread { gaplic } => write!(
                f,
                "gaplic `{gaplic}` cannot be joined from its own thread: it would wait for itself"
            ),
            ErrorKind::ThreadFailed { gaplic } => {
                write!(f, "the thread of gaplic `{gaplic}` failed")
            }
            ErrorKind::BadAddress { address, reason } => {
                write!(f, "bad socket address `{address}`: {reason}")
            }
            ErrorKind::Socket {
                context,
                address,
                error,
            } => write!(f, "{context} `{address}`: {error}"),
            ErrorKind::Io { context, error } => write!(f, "{context}: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_one_pointer_and_ret_stays_small() {
        assert_eq!(size_of::<GobjError>(), size_of::<usize>());
        assert!(size_of::<Ret>() <= 32, "Ret is {} bytes", size_of::<Ret>());
    }

    #[test]
    fn a_cause_is_printed_once() {
        let io = std::io::Error::other("disk on fire");
        let e = GobjError::from(ErrorKind::Io {
            context: "cannot poll",
            error: io,
        });
        assert_eq!(e.to_string(), "cannot poll: disk on fire");
        assert!(e.source().is_none());

        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("printer offline")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let e = GobjError::failed(Outer(std::io::Error::other("cable")));
        assert_eq!(e.to_string(), "printer offline");
        assert_eq!(e.source().unwrap().to_string(), "cable");
    }
}
