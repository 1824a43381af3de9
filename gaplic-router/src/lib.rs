#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[doc(hidden)]
pub mod fuzzing;
pub mod route;
mod router;
pub mod wire;
pub mod ws;

pub use router::{EV_SEND_FAILED, GRouter, GRouterEvent, GRouterState, INTRA_EVENT_KEY, ROUTER};

use gaplic::prelude::*;

/// Answers `ev`: an event that came through the router goes back to its
/// origin gobj in the other gaplic (through the gaplic's router); any
/// other goes to its sender as [`Cx::reply`] sends it.
///
/// # Errors
///
/// Those of the router's `EV_SEND_EVENT` (no route to the origin, a full
/// queue, a payload JSON cannot carry), or of [`Cx::reply`].
pub fn reply<G: Gclass>(
    cx: &mut Cx<G>,
    ev: &Event,
    event: &str,
    kw: Kw,
) -> Result<Sent, GobjError> {
    let origin = ev.kw().value(INTRA_EVENT_KEY).and_then(Kw::from_value);
    let Some(origin) = origin else {
        return cx.reply(ev, event.to_owned(), kw);
    };
    let gaplic: Option<String> = origin.get("origin_gaplic")?;
    let role: Option<String> = origin.get("origin_role")?;
    let gobj: Option<String> = origin.get("origin_gobj")?;
    let Some(gobj) = gobj else {
        return Err(GobjError::failed(format!(
            "`{}` came from no named gobj of gaplic {}: there is nobody to answer",
            ev.name(),
            gaplic.as_deref().unwrap_or("-")
        )));
    };
    send_outside(cx, gaplic.as_deref(), role.as_deref(), &gobj, event, kw)
}

/// Sends `event` to the unique gobj `gobj` of the gaplic called `gaplic`
/// (or, without one, of a gaplic with role `role`), through this gaplic's
/// router, from the calling gobj (which must be a unique gobj, for answers
/// to reach it).
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
    let from = cx.name().to_owned();
    cx.send(
        ROUTER,
        GRouterEvent::EV_SUBSCRIBE_EVENT,
        kw! { "gaplic" => gaplic, "role" => role, "gobj" => gobj, "event" => event, "from" => from },
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
    let from = cx.name().to_owned();
    cx.send(
        ROUTER,
        GRouterEvent::EV_UNSUBSCRIBE_EVENT,
        kw! { "gaplic" => gaplic, "role" => role, "gobj" => gobj, "event" => event, "from" => from },
    )
}
