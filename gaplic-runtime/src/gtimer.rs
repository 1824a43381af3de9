//! `GTimer`: a timer as a gobj, declared with `gobj!` like any gclass.

use std::time::{Duration, Instant};

use gaplic_macros::gobj;

use crate::cx::Cx;
use crate::error::ErrorKind;
use crate::error::{GobjError, Ret};
use crate::event::Event;
use crate::id::TimerId;
use crate::kw;
use crate::kw::{Kw, KwError};
use crate::pubsub::SubscribeOptions;
use crate::value::Value;

gobj! {
    /// A timer gobj, as GinsFSM's `GTimer`: `EV_SET_TIMER` arms it for
    /// `seconds` (fractions allowed), once or, with `autostart`, every
    /// `seconds`; a negative value disarms it. When it fires it publishes
    /// `EV_TIMEOUT`, which its parent receives by post (under the name in
    /// `timeout_event_name`), with the timer as the event's source.
    ///
    /// `seconds` and `autostart` persist: an `EV_SET_TIMER` without one of
    /// them keeps the value it had. A cyclic timer keeps its cadence: each
    /// period counts from the previous deadline, not from when the loop got
    /// to it. Re-arming or disarming takes effect at once: a firing of an
    /// earlier arming never reaches the parent.
    ///
    /// `seconds` must be a number no greater than
    /// [`GTimer::MAX_SECONDS`]; NaN, infinities and larger values are
    /// refused, at creation with [`ErrorKind::BadAttr`] and in
    /// `EV_SET_TIMER` with [`ErrorKind::BadPayload`] (the timer is then
    /// left as it was).
    #[gobj(crate = "crate")]
    #[derive(Debug)]
    pub struct GTimer {
        /// Seconds until it fires; negative: disarmed.
        #[attr(default = -1.0, validate = storable_seconds)]
        seconds: f64,
        /// Re-arm after firing (a cyclic timer).
        #[attr(default = false)]
        autostart: bool,
        /// The name the parent receives `EV_TIMEOUT` under.
        #[attr(default = "EV_TIMEOUT")]
        timeout_event_name: String,
        armed: Option<TimerId>,
        /// Counts the armings; a firing names the one it belongs to.
        arming: u64,
        due: Option<Instant>,
    }
    events {
        /// Arms, re-arms or disarms the timer.
        EV_SET_TIMER: input top { seconds: Option<f64>, autostart: Option<bool> },
        /// The gaplic's timer expired (sent by the gaplic to the timer), for
        /// the arming it names.
        EV_FIRED: input bottom { arming: u64 },
        /// Published when the timer fires.
        EV_TIMEOUT: output top,
    }
    states {
        /// Not armed.
        ST_IDLE,
        /// Armed; `EV_FIRED` will come.
        ST_ARMED,
    }
    machine {
        ST_IDLE {
            EV_SET_TIMER => set_timer,
            EV_FIRED => fire,
        }
        ST_ARMED {
            EV_SET_TIMER => set_timer,
            EV_FIRED => fire,
        }
    }
    hooks { start_up }
}

impl GTimer {
    /// The longest period a GTimer takes: 100 years, in seconds
    /// (3153600000).
    pub const MAX_SECONDS: f64 = 100.0 * 365.0 * 24.0 * 3600.0;

    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let Some(id) = cx.id() else {
            // A machine of its own: nothing to arm, nobody to tell.
            return Ok(());
        };
        let gaplic = cx.gaplic()?;
        if let Some(parent) = gaplic.parent_of(id) {
            let mut options = SubscribeOptions::new().post();
            if self.timeout_event_name != "EV_TIMEOUT" {
                options = options.rename(self.timeout_event_name.clone());
            }
            gaplic.subscribe(id, Some("EV_TIMEOUT"), parent, options)?;
        }
        if self.seconds >= 0.0 {
            self.arm(cx, None)?;
        }
        Ok(())
    }

    fn set_timer(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let seconds = ev.get::<Option<f64>>("seconds")?;
        if let Some(seconds) = seconds
            && let Err(error) = check_seconds(seconds)
        {
            return Err(ErrorKind::BadPayload {
                gclass: "GTimer",
                gobj: cx.name().into(),
                event: ev.name(),
                error,
            }
            .into());
        }
        if let Some(seconds) = seconds {
            self.seconds = seconds;
        }
        if let Some(autostart) = ev.get::<Option<bool>>("autostart")? {
            self.autostart = autostart;
        }
        self.disarm(cx);
        if self.seconds >= 0.0 {
            self.arm(cx, None)?;
        }
        Ok(Value::Null)
    }

    fn fire(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        if self.armed.is_none() || ev.get::<u64>("arming")? != self.arming {
            // A firing of an arming that was replaced or cancelled since.
            tracing::trace!(target: "gaplic", gobj = cx.name(), "stale GTimer firing ignored");
            return Ok(Value::Null);
        }
        self.armed = None;
        cx.set_state(GTimerState::ST_IDLE);
        let previous = self.due.take();
        cx.broadcast(GTimerEvent::EV_TIMEOUT, Kw::new())?;
        if self.autostart && self.seconds >= 0.0 && self.armed.is_none() {
            self.arm(cx, previous)?;
        }
        Ok(Value::Null)
    }

    /// Arms for one period from `from` (the previous deadline), or from now.
    fn arm(&mut self, cx: &mut Cx<Self>, from: Option<Instant>) -> Result<(), GobjError> {
        // `check_seconds` let only finite periods up to `MAX_SECONDS` in.
        let period = Duration::from_secs_f64(self.seconds);
        let now = cx.gaplic()?.now();
        let due = from.unwrap_or(now).checked_add(period).unwrap_or(now);
        self.arming += 1;
        let timer = cx.set_timer(
            due.saturating_duration_since(now),
            GTimerEvent::EV_FIRED,
            kw! { "arming" => self.arming },
        )?;
        self.armed = Some(timer);
        self.due = Some(due);
        cx.set_state(GTimerState::ST_ARMED);
        Ok(())
    }

    fn disarm(&mut self, cx: &mut Cx<Self>) {
        if let Some(timer) = self.armed.take() {
            cx.cancel_timer(timer);
        }
        self.due = None;
        cx.set_state(GTimerState::ST_IDLE);
    }
}

/// The rule of the `seconds` attr: [`check_seconds`], said in words.
fn storable_seconds(seconds: &f64) -> Result<(), &'static str> {
    check_seconds(*seconds)
        .map_err(|_| "expected a number of seconds up to 3153600000 (negative disarms)")
}

/// Refuses a period no clock can hold: NaN, infinite, or past
/// [`GTimer::MAX_SECONDS`] (3153600000, as the message says). Negative
/// values are fine: they disarm.
fn check_seconds(seconds: f64) -> Result<(), KwError> {
    if seconds.is_finite() && seconds <= GTimer::MAX_SECONDS {
        return Ok(());
    }
    Err(KwError::OutOfRange {
        key: "seconds".to_owned(),
        value: format!("{seconds:?}"),
        expected: "a number of seconds up to 3153600000 (negative disarms)",
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusal_names_the_maximum() {
        assert_eq!(super::GTimer::MAX_SECONDS, 3_153_600_000.0);
    }
}
