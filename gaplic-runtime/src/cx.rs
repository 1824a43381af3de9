//! `Cx`: everything an action or a hook can do besides changing its own
//! struct.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use crate::dest::Dest;
use crate::error::ErrorKind;
use crate::error::GobjError;
use crate::event::{Event, Origin, Sent};
use crate::gaplic::{Gaplic, Sender};
use crate::gobj::EventKey;
use crate::id::{GobjId, SubscriptionId, TimerId};
use crate::kw::Kw;
use crate::machine::{Gclass, Symbol};
use crate::machine::{not_accepted, state_by_name};
use crate::meta::GclassMeta;
use crate::pubsub::SubscribeOptions;

/// What an action can see and do besides its own struct: the gobj's state
/// and name and, in a gaplic, the other gobjs (send, post, reply,
/// broadcast, subscribe, create, timers: see the methods below).
///
/// # Examples
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// Answers every ping with a pong to whoever sent it.
///     pub struct Ponger { pongs: u32 }
///     events { EV_PING }
///     states { ST_READY }
///     machine { ST_READY { EV_PING => pong } }
/// }
///
/// impl Ponger {
///     fn pong(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
///         self.pongs += 1;
///         cx.reply(ev, "EV_PONG", kw! { "n" => self.pongs })?;
///         Ok(Value::Null)
///     }
/// }
/// # let _ = Ponger::META;
/// ```
pub struct Cx<'a, G: Gclass> {
    state: &'a mut G::State,
    name: &'a Arc<str>,
    id: Option<GobjId>,
    gaplic: Option<&'a mut Gaplic>,
}

impl<'a, G: Gclass> Cx<'a, G> {
    /// A context over `state` for the gobj called `name`, outside any
    /// gaplic.
    pub fn new(state: &'a mut G::State, name: &'a Arc<str>) -> Self {
        Self {
            state,
            name,
            id: None,
            gaplic: None,
        }
    }

    /// A context for gobj `id` of `gaplic`, when it has both.
    pub(crate) fn in_gaplic(
        state: &'a mut G::State,
        name: &'a Arc<str>,
        id: Option<GobjId>,
        gaplic: Option<&'a mut Gaplic>,
    ) -> Self {
        Self {
            state,
            name,
            id,
            gaplic,
        }
    }

    /// The gobj's id in its gaplic; `None` outside one.
    pub fn id(&self) -> Option<GobjId> {
        self.id
    }

    /// The current state. Inside an action this is already the row's next
    /// state.
    #[inline(always)]
    pub fn state(&self) -> G::State {
        *self.state
    }

    /// Moves to `state` (GinsFSM's `set_new_state`). An action may call it
    /// to override the row's next state.
    #[inline(always)]
    pub fn set_state(&mut self, state: G::State) {
        *self.state = state;
    }

    /// Moves to the state called `name`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownState`] when the gclass has no such state; the
    /// state does not change.
    pub fn set_state_by_name(&mut self, name: &str) -> Result<(), GobjError> {
        *self.state = state_by_name::<G>(name)?;
        Ok(())
    }

    /// The gobj's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The gclass's metadata.
    pub fn gclass(&self) -> &'static GclassMeta {
        G::META
    }

    /// The error for `event` arriving in a state without a row for it,
    /// traced as GinsFSM does. Called by generated dispatch.
    #[doc(hidden)]
    #[inline(always)]
    pub fn not_accepted(&self, event: G::Event) -> GobjError {
        // By value, so an accepted event never spills the context to memory.
        not_accepted::<G>(self.name, *self.state, event)
    }

    /// The gaplic the gobj lives in.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoGaplic`] for a gobj run by a
    /// [`Machine`](crate::Machine) of its own.
    pub fn gaplic(&mut self) -> Result<&mut Gaplic, GobjError> {
        match self.gaplic.as_deref_mut() {
            Some(gaplic) => Ok(gaplic),
            None => Err(ErrorKind::NoGaplic {
                gobj: self.name.clone(),
            }
            .into()),
        }
    }

    /// The gobj's id and its gaplic.
    fn here(&mut self) -> Result<(GobjId, &mut Gaplic), GobjError> {
        let name = self.name;
        match (self.id, self.gaplic.as_deref_mut()) {
            (Some(id), Some(gaplic)) => Ok((id, gaplic)),
            _ => Err(ErrorKind::NoGaplic { gobj: name.clone() }.into()),
        }
    }

    /// Sends an event directly, with this gobj as its source, and returns
    /// what the receiver's action returned. A receiver that is mid-action
    /// (this gobj itself, or one up the chain of sends that led here) gets
    /// the event right after that action returns: this returns
    /// [`Sent::Queued`], which is not an error, so `?` goes on.
    ///
    /// # Errors
    ///
    /// As [`Gaplic::send`], plus [`ErrorKind::NoGaplic`].
    pub fn send<'d>(
        &mut self,
        dst: impl Into<Dest<'d>>,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Result<Sent, GobjError> {
        let name = self.name;
        let (id, gaplic) = self.here()?;
        gaplic.send_from(Some(Sender { id, name }), dst.into(), event.into(), kw)
    }

    /// Posts an event, with this gobj as its source: it is delivered by the
    /// loop, after the events posted before it.
    ///
    /// # Errors
    ///
    /// As [`Gaplic::post`], plus [`ErrorKind::NoGaplic`].
    pub fn post<'d>(
        &mut self,
        dst: impl Into<Dest<'d>>,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Result<(), GobjError> {
        let name = self.name;
        let (id, gaplic) = self.here()?;
        gaplic.post_from(Some(Sender { id, name }), dst.into(), event.into(), kw)
    }

    /// Answers the sender of `ev` with `event`, the way `ev` came: an event
    /// addressed by gaplic and gobj (with an [origin](Event::origin)) is
    /// answered by gaplic and gobj, wherever that gaplic runs (this one,
    /// another thread, another process through the router), with this gobj
    /// as the answer's origin; a local event is answered by a direct send
    /// to its source (queued when the source is mid-action, as it usually
    /// is when it sent `ev` directly: then it gets the answer right after).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoSender`] when `ev` came from no gobj; as
    /// [`send`](Cx::send) otherwise.
    pub fn reply(
        &mut self,
        ev: &Event,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Result<Sent, GobjError> {
        if let Some(dst) = ev.origin().and_then(Origin::dest) {
            return self.send(dst, event, kw);
        }
        if let Some(source) = ev.source() {
            return self.send(source, event, kw);
        }
        Err(ErrorKind::NoSender { event: ev.name() }.into())
    }

    /// Sends `event` to a gobj of this gaplic on behalf of `origin`, a gobj
    /// of another gaplic: the receiver sees this gobj as the
    /// [source](Event::source) and `origin` as the [origin](Event::origin),
    /// so its [`reply`](Cx::reply) goes back to `origin`. A router delivers
    /// what it carries this way.
    ///
    /// # Errors
    ///
    /// As [`Gaplic::send_with_origin`], plus [`ErrorKind::NoGaplic`].
    pub fn send_with_origin<'d>(
        &mut self,
        dst: impl Into<Dest<'d>>,
        event: impl Into<EventKey>,
        kw: Kw,
        origin: Origin,
    ) -> Result<Sent, GobjError> {
        let (id, gaplic) = self.here()?;
        gaplic.send_with_origin_from(Some(id), dst.into(), event.into(), kw, origin)
    }

    /// Publishes one of this gobj's output events to its subscribers (see
    /// [`Gaplic::broadcast`] for who gets it when subscriptions change
    /// meanwhile).
    ///
    /// # Errors
    ///
    /// As [`Gaplic::broadcast`], plus [`ErrorKind::NoGaplic`].
    pub fn broadcast(&mut self, event: impl Into<EventKey>, kw: Kw) -> Result<(), GobjError> {
        let (id, gaplic) = self.here()?;
        gaplic.broadcast(id, event, kw)
    }

    /// Subscribes this gobj to `event` (`None`: all) of `publisher`.
    ///
    /// # Errors
    ///
    /// As [`Gaplic::subscribe`], plus [`ErrorKind::NoGaplic`].
    pub fn subscribe(
        &mut self,
        publisher: GobjId,
        event: Option<&str>,
        options: SubscribeOptions,
    ) -> Result<SubscriptionId, GobjError> {
        let (id, gaplic) = self.here()?;
        gaplic.subscribe(publisher, event, id, options)
    }

    /// Creates a child of this gobj.
    ///
    /// # Errors
    ///
    /// As [`Gaplic::create_gobj`], plus [`ErrorKind::NoGaplic`].
    pub fn create_child<C: Gclass + 'static>(
        &mut self,
        name: &str,
        kw: Kw,
    ) -> Result<GobjId, GobjError> {
        let (id, gaplic) = self.here()?;
        gaplic.create_gobj::<C>(name, Some(id), kw)
    }

    /// Sends `event` to this gobj itself after `delay`, with this gobj as
    /// the source; the timer dies with the gobj.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoGaplic`].
    pub fn set_timer(
        &mut self,
        delay: Duration,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Result<TimerId, GobjError> {
        let (id, gaplic) = self.here()?;
        gaplic.set_gobj_timer(id, delay, event, kw)
    }

    /// Cancels a timer; `false` when it fired or was cancelled already.
    /// Outside a gaplic there are no timers: `false`.
    pub fn cancel_timer(&mut self, timer: TimerId) -> bool {
        self.gaplic
            .as_deref_mut()
            .is_some_and(|gaplic| gaplic.cancel_timer(timer))
    }

    /// Posts `event` to the gobj with unique name `gobj` in the gaplic
    /// named `gaplic` (this one included), with this gobj as the origin a
    /// reply can go to: shorthand for `post(Dest::in_gaplic(gaplic, gobj),
    /// ..)`.
    ///
    /// # Errors
    ///
    /// As [`post`](Cx::post) to a [`Dest::Remote`].
    pub fn post_to_gaplic(
        &mut self,
        gaplic: &str,
        gobj: &str,
        event: &str,
        kw: Kw,
    ) -> Result<(), GobjError> {
        self.post(
            Dest::in_gaplic(gaplic, gobj),
            EventKey::from(event.to_owned()),
            kw,
        )
    }
}

impl<G: Gclass> Debug for Cx<'_, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cx")
            .field("gclass", &G::META.name())
            .field("gobj", &self.name)
            .field("state", &self.state.name())
            .finish()
    }
}
