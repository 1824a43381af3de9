//! `GTimer`: a timer as a gobj, declared with `gobj!` like any gclass.

use std::time::{Duration, Instant};

use gaplic_macros::gobj;

use crate::{Cx, Event, GobjError, Kw, Ret, SubscribeOptions, TimerId, Value};

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
    /// to it.
    #[gobj(crate = "crate")]
    #[derive(Debug)]
    pub struct GTimer {
        /// Seconds until it fires; negative: disarmed.
        #[attr(default = -1.0)]
        seconds: f64,
        /// Re-arm after firing (a cyclic timer).
        #[attr(default = false)]
        autostart: bool,
        /// The name the parent receives `EV_TIMEOUT` under.
        #[attr(default = "EV_TIMEOUT")]
        timeout_event_name: String,
        armed: Option<TimerId>,
        due: Option<Instant>,
    }
    events {
        /// Arms, re-arms or disarms the timer.
        EV_SET_TIMER: input top { seconds: Option<f64>, autostart: Option<bool> },
        /// The gaplic's timer expired (sent by the gaplic to the timer).
        EV_FIRED: input bottom,
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
        }
        ST_ARMED {
            EV_SET_TIMER => set_timer,
            EV_FIRED => fire,
        }
    }
    hooks { start_up }
}

impl GTimer {
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
        if let Some(seconds) = ev.get::<Option<f64>>("seconds")? {
            self.seconds = seconds;
        }
        if let Some(autostart) = ev.get::<Option<bool>>("autostart")? {
            self.autostart = autostart;
        }
        self.disarm(cx)?;
        if self.seconds >= 0.0 {
            self.arm(cx, None)?;
        }
        Ok(Value::Null)
    }

    fn fire(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.armed = None;
        cx.set_state(GTimerState::ST_IDLE);
        let previous = self.due.take();
        cx.broadcast(GTimerEvent::EV_TIMEOUT, Kw::new())?;
        if self.autostart && self.seconds >= 0.0 && cx.state() == GTimerState::ST_IDLE {
            self.arm(cx, previous)?;
        }
        Ok(Value::Null)
    }

    /// Arms for one period from `from` (the previous deadline), or from now.
    fn arm(&mut self, cx: &mut Cx<Self>, from: Option<Instant>) -> Result<(), GobjError> {
        let period = Duration::try_from_secs_f64(self.seconds).map_err(|_| {
            GobjError::failed(format!(
                "GTimer `{}`: bad seconds {}",
                cx.name(),
                self.seconds
            ))
        })?;
        let now = cx.gaplic()?.now();
        let due = from.unwrap_or(now) + period;
        let key = cx.set_timer(
            due.saturating_duration_since(now),
            GTimerEvent::EV_FIRED,
            Kw::new(),
        )?;
        self.armed = Some(key);
        self.due = Some(due);
        cx.set_state(GTimerState::ST_ARMED);
        Ok(())
    }

    fn disarm(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        if let Some(timer) = self.armed.take() {
            cx.cancel_timer(timer);
        }
        self.due = None;
        cx.set_state(GTimerState::ST_IDLE);
        Ok(())
    }
}
