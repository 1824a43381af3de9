#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[doc(hidden)]
pub mod fuzzing;
pub mod route;
mod router;
pub mod wire;
pub mod ws;

pub use gaplic::ROUTER;
pub use router::{EV_SEND_FAILED, GRouter, GRouterEvent, GRouterState};

use gaplic::prelude::*;

/// Sends `event` to the unique gobj `gobj` of the gaplic called `gaplic`
/// (or, without one, of a gaplic with role `role`), through this gaplic's
/// router, from the calling gobj (which must be a unique gobj, for answers
/// to reach it).
///
/// `cx.post(Dest::in_gaplic(..))` does the same for a gaplic that does not
/// run in this process, and reaches one that does directly; this goes
/// through the router even then.
///
/// # Errors
///
/// Those of the router's `EV_SEND_EVENT`.
pub fn send_outside<G: Gclass>(
    cx: &mut Cx<G>,
    gaplic: Option<&str>,
    role: Option<&str>,
    gobj: &str,
    event: &str,
    kw: Kw,
) -> Result<Sent, GobjError> {
    let from = cx.name().to_owned();
    cx.send(
        ROUTER,
        GRouterEvent::EV_SEND_EVENT,
        kw! {
            "gaplic" => gaplic,
            "role" => role,
            "gobj" => gobj,
            "event" => event,
            "kw" => kw,
            "from" => from,
        },
    )
}

/// Subscribes the calling unique gobj to output event `event` of the gobj
/// `gobj` of another gaplic, through this gaplic's router: each broadcast
/// comes to it under the event's name, with `original_event_name` and
/// `__subscription_reference__`.
///
/// # Errors
///
/// Those of the router's `EV_SUBSCRIBE_EVENT`.
pub fn subscribe_outside<G: Gclass>(
    cx: &mut Cx<G>,
    gaplic: Option<&str>,
    role: Option<&str>,
    gobj: &str,
    event: &str,
) -> Result<Sent, GobjError> {
    hand_subscription(
        cx,
        GRouterEvent::EV_SUBSCRIBE_EVENT,
        gaplic,
        role,
        gobj,
        event,
    )
}

/// Ends a subscription made with [`subscribe_outside`].
///
/// # Errors
///
/// Those of the router's `EV_UNSUBSCRIBE_EVENT`.
pub fn unsubscribe_outside<G: Gclass>(
    cx: &mut Cx<G>,
    gaplic: Option<&str>,
    role: Option<&str>,
    gobj: &str,
    event: &str,
) -> Result<Sent, GobjError> {
    hand_subscription(
        cx,
        GRouterEvent::EV_UNSUBSCRIBE_EVENT,
        gaplic,
        role,
        gobj,
        event,
    )
}

/// Hands the router a subscription request from the calling gobj.
fn hand_subscription<G: Gclass>(
    cx: &mut Cx<G>,
    request: GRouterEvent,
    gaplic: Option<&str>,
    role: Option<&str>,
    gobj: &str,
    event: &str,
) -> Result<Sent, GobjError> {
    let from = cx.name().to_owned();
    cx.send(
        ROUTER,
        request,
        kw! { "gaplic" => gaplic, "role" => role, "gobj" => gobj, "event" => event, "from" => from },
    )
}
