//! The loop: callbacks, timers, IO, the inbox, turning, stopping.

use std::time::{Duration, Instant};

use mio::event::Source;

use super::{Gaplic, Life, TimerAction};
use crate::error::ErrorKind;
use crate::error::GobjError;
use crate::gobj::EventKey;
use crate::id::{GobjId, MaybeGobj, TimerId};
use crate::io::{Interest, Token};
use crate::kw::Kw;
use crate::queue::Queued;
use crate::thread::Remote;

impl Gaplic {
    // ----- callbacks and timers -------------------------------------------

    /// Runs `callback` on the next turn of the loop. After a stop, the
    /// callback is dropped (traced): nothing runs any more.
    pub fn add_callback(&mut self, callback: impl FnOnce(&mut Gaplic) + 'static) {
        if self.life != Life::Running {
            tracing::warn!(target: "gaplic", gaplic = %self.name, "callback dropped: the gaplic has stopped");
            return;
        }
        self.callbacks.push_back(Box::new(callback));
    }

    /// Runs `callback` once, `delay` from now, by the gaplic's clock. Once
    /// the gaplic has stopped, no timer fires: the timer is cancelled at
    /// once (its id is valid, and cancelling it answers `false`).
    pub fn set_timer(
        &mut self,
        delay: Duration,
        callback: impl FnOnce(&mut Gaplic) + 'static,
    ) -> TimerId {
        let action = TimerAction::Callback(Box::new(callback));
        let timer = self.driver.set_timer(delay, None, action);
        if self.life != Life::Running {
            self.driver.cancel_timer(timer);
        }
        timer
    }

    /// Sends `event` to `owner` itself, `delay` from now, with `owner` as
    /// the source; the timer dies with its owner.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] for a dead owner.
    pub fn set_gobj_timer(
        &mut self,
        owner: GobjId,
        delay: Duration,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Result<TimerId, GobjError> {
        self.registry.live(owner)?;
        let action = TimerAction::Event {
            event: event.into(),
            kw,
        };
        Ok(self.driver.set_timer(delay, Some(owner), action))
    }

    /// Cancels a timer; `false` when it fired or was cancelled already. A
    /// timer due in the same turn as the one whose callback (or event)
    /// cancels it does not fire.
    pub fn cancel_timer(&mut self, timer: TimerId) -> bool {
        self.driver.cancel_timer(timer)
    }

    /// How many timers are armed.
    pub fn timer_count(&self) -> usize {
        self.driver.timer_count()
    }

    /// Now, by the gaplic's clock.
    pub fn now(&self) -> Instant {
        self.driver.now()
    }

    // ----- IO -----------------------------------------------------------------

    /// Registers an IO source for `owner`: each readiness of it is
    /// delivered to `owner` as `event` with an empty payload (edge
    /// triggered: read and write until `WouldBlock`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] for a dead owner, [`ErrorKind::Io`] when
    /// the poll refuses the source.
    pub fn register_io<S: Source + ?Sized>(
        &mut self,
        owner: GobjId,
        source: &mut S,
        interest: Interest,
        event: impl Into<EventKey>,
    ) -> Result<Token, GobjError> {
        self.registry.live(owner)?;
        self.driver
            .register(source, interest, owner, event.into())
            .map_err(|error| {
                ErrorKind::Io {
                    context: "cannot register a socket with the gaplic's poll",
                    error,
                }
                .into()
            })
    }

    /// Removes a source registered with [`register_io`](Gaplic::register_io).
    pub fn deregister_io<S: Source + ?Sized>(&mut self, token: Token, source: &mut S) {
        self.driver.deregister(token, source);
    }

    // ----- the loop -----------------------------------------------------------

    /// One turn of the loop, without blocking: what other threads sent,
    /// the callbacks queued before the turn, a batch of posted events, the
    /// due timers. At the end of the turn in which a stop was asked, the gaplic
    /// ends (see [`stop`](Gaplic::stop)). Returns whether work remains for
    /// another turn.
    pub fn turn(&mut self) -> bool {
        if matches!(self.life, Life::Ending | Life::Stopped) {
            return false;
        }
        // What other threads sent first, so an event from another thread is
        // delivered in the turn that takes it in.
        self.take_inbox(self.batch);
        self.run_callbacks();
        self.deliver_posted(self.batch);
        self.fire_timers();
        if self.life == Life::Stopping {
            self.finish();
            return false;
        }
        if self.queue.is_empty() {
            self.queue.release_spare();
        }
        self.has_work() || self.driver.has_message()
    }

    /// Turns until no posted event or callback remains. Timers fire when
    /// due; a virtual clock does not move.
    pub fn run_until_idle(&mut self) {
        while self.turn() {}
    }

    /// Moves a virtual clock `delay` forward, firing the timers due on the
    /// way in deadline order, each followed by the work it causes. On a
    /// real clock it only runs until idle.
    pub fn advance(&mut self, delay: Duration) {
        let target = self.driver.deadline_after(delay);
        self.run_until_idle();
        if self.driver.is_virtual() {
            while self.driver.step_virtual(target) {
                self.run_until_idle();
            }
        }
        self.run_until_idle();
    }

    /// Whether posted events or callbacks wait.
    pub fn has_work(&self) -> bool {
        !self.queue.is_empty() || !self.callbacks.is_empty()
    }

    /// How many posted events wait.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Runs the loop until the gaplic ends: [`stop`](Gaplic::stop) from an
    /// action or a callback, or from another thread through a
    /// [`GaplicHandle`](crate::GaplicHandle). A gaplic stopped already
    /// returns at once.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when the poll fails (the gaplic is then ended on
    /// drop).
    pub fn run(&mut self) -> Result<(), GobjError> {
        self.run_until(|_| false).map(|_| ())
    }

    /// Runs the loop as [`run`](Gaplic::run) does, until `condition` holds
    /// (it is asked after every turn and every wait) or the gaplic ends;
    /// returns whether the condition held. Unlike a stop, meeting the
    /// condition leaves the gaplic as it is, to be run again: tests and
    /// tools drive a gaplic on the real clock in steps this way.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when the poll fails.
    pub fn run_until(
        &mut self,
        mut condition: impl FnMut(&mut Gaplic) -> bool,
    ) -> Result<bool, GobjError> {
        loop {
            let more = self.turn();
            if self.life == Life::Stopped {
                return Ok(false);
            }
            if condition(self) {
                return Ok(true);
            }
            self.driver.wait(more).map_err(|error| ErrorKind::Io {
                context: "the gaplic's poll failed",
                error,
            })?;
            self.deliver_io();
            if condition(self) {
                return Ok(true);
            }
        }
    }

    /// Asks the gaplic to end, at the end of the current turn (or of the
    /// loop driven by hand: [`turn`](Gaplic::turn),
    /// [`run_until_idle`](Gaplic::run_until_idle), [`advance`](Gaplic::advance)).
    ///
    /// From now on, posts (here or from other threads) are refused with
    /// [`ErrorKind::Stopped`]. At the end of the turn, every event posted
    /// before the stop is delivered, from this thread or another, with the
    /// callbacks queued before it; then every gobj's `go_out` runs,
    /// children before parents, and the timers and subscriptions are
    /// released. Timers do not fire any more.
    pub fn stop(&mut self) {
        if self.life == Life::Running {
            self.life = Life::Stopping;
            self.driver.close_inbox();
        }
    }

    /// Whether the gaplic has ended.
    pub fn is_stopped(&self) -> bool {
        self.life == Life::Stopped
    }

    /// The end of a gaplic asked to stop: delivers what was posted before
    /// the stop (everything, not a batch), then every gobj goes out.
    pub(super) fn finish(&mut self) {
        // Closing settled the inbox: every send that succeeded is in it.
        self.driver.close_inbox();
        self.take_inbox(usize::MAX);
        while self.has_work() {
            self.run_callbacks();
            self.deliver_posted(usize::MAX);
            self.take_inbox(usize::MAX);
        }
        self.life = Life::Ending;
        self.destroy_all();
        // What the `go_out`s posted is for gobjs that are gone with the
        // end: dropped, as expected, so traced at debug level only.
        while let Some(queued) = self.queue.pop() {
            tracing::debug!(
                target: "gaplic",
                gaplic = %self.name,
                id = %queued.dst,
                event = queued.event.name(),
                "event posted while the gaplic ended; its receiver is gone"
            );
        }
        self.callbacks.clear();
        self.driver.clear_timers();
        self.life = Life::Stopped;
    }

    fn run_callbacks(&mut self) {
        for _ in 0..self.callbacks.len() {
            let Some(callback) = self.callbacks.pop_front() else {
                break;
            };
            self.run_callback(callback, "callback");
        }
    }

    /// Delivers up to `max` posted events, in order.
    fn deliver_posted(&mut self, max: usize) {
        for _ in 0..max {
            let Some(queued) = self.queue.pop() else {
                break;
            };
            self.deliver_unreceived(queued);
        }
    }

    /// Takes up to `max` messages from other threads.
    fn take_inbox(&mut self, max: usize) {
        for _ in 0..max {
            let Some(remote) = self.driver.recv() else {
                break;
            };
            match remote {
                Remote::Event {
                    gobj,
                    event,
                    kw,
                    origin,
                } => match self.registry.find_unique(&gobj) {
                    Some(dst) => self.queue.push(Queued {
                        dst,
                        event,
                        kw,
                        source: MaybeGobj::NONE,
                        origin,
                    }),
                    None => tracing::warn!(
                        target: "gaplic",
                        gaplic = %self.name,
                        gobj = %gobj,
                        event = event.name(),
                        "event from another gaplic dropped: no gobj has that unique name"
                    ),
                },
                Remote::Call(call) => self.callbacks.push_back(call),
                Remote::Stop => self.stop(),
            }
        }
    }

    /// Runs the timers due now, one at a time: a timer cancelled by one
    /// that runs before it does not run.
    fn fire_timers(&mut self) {
        if self.life != Life::Running {
            return;
        }
        self.driver.collect_due();
        // One at a time, so a stop from a timer stops the ones after it.
        while self.life == Life::Running
            && let Some((owner, action)) = self.driver.pop_due()
        {
            match action {
                TimerAction::Callback(callback) => self.run_callback(callback, "timer callback"),
                TimerAction::Event { event, kw } => {
                    let Some(owner) = owner else { continue };
                    self.deliver_unreceived(Queued::local(owner, event, kw, Some(owner)));
                }
            }
        }
    }

    /// Delivers each ready IO source's event to the gobj that owns it.
    fn deliver_io(&mut self) {
        while let Some((owner, event)) = self.driver.pop_ready() {
            self.deliver_unreceived(Queued::local(owner, event, Kw::new(), None));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{GTimer, GTimerEvent, Gaplic, Kw, kw};

    /// A burst of a million posts used to leave ~94 MiB held by the queue
    /// after it drained.
    #[test]
    fn a_drained_burst_of_posts_gives_the_queue_memory_back() {
        let mut g = Gaplic::builder("burst").virtual_clock().build().unwrap();
        let timer = g.create_gobj::<GTimer>("timer", None, Kw::new()).unwrap();
        for _ in 0..200_000 {
            g.post(timer, GTimerEvent::EV_SET_TIMER, kw! { "seconds" => -1 })
                .unwrap();
        }
        assert!(g.queue.capacity() >= 200_000);
        g.run_until_idle();
        assert_eq!(g.queued(), 0);
        assert!(g.queue.capacity() <= 2048, "{}", g.queue.capacity());
    }
}
