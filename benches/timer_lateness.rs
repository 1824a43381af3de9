//! How late a 10 ms timer fires on the real loop.
//!
//! `TIMERS` timers of `DELAY`, one after the other, each set when the
//! previous one fired; each records `Instant::now() - deadline`, where
//! `deadline` is the `Instant` it was set at plus `DELAY`. Two ways of
//! using the loop's timers, both on [`Gaplic::run`] with a real clock:
//! - `add_timeout`: a timeout callback that records and sets the next one;
//! - `GTimer`: a gobj with a `GTimer` child, re-armed with
//!   `EV_SET_TIMER { seconds: 0.010 }` on each `EV_TIMEOUT` it receives (by
//!   post, as a `GTimer`'s parent does): what a gclass does in real use.
//!
//! Baseline: `std::thread::sleep(DELAY)`, the same count, lateness taken
//! the same way.
//!
//! The three run alternately in `BLOCKS` blocks of `TIMERS / BLOCKS`, so
//! machine load during the ~15 s weighs on all of them alike. Printed: p50,
//! p99 and max of each, as `result timer_lateness/...` lines, and the p99
//! ratio to the sleep baseline as a `ratio` line. An early fire (negative
//! lateness) would be a bug and is counted separately.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{GTimer, GTimerEvent};

/// Timers per way.
const TIMERS: usize = 500;

/// Blocks the timers of each way are split into, alternating the ways.
const BLOCKS: usize = 5;

/// The delay of every timer.
const DELAY: Duration = Duration::from_millis(10);

/// The target for the loop's p99 lateness.
const TARGET_P99: Duration = Duration::from_millis(1);

/// Lateness samples in nanoseconds; negative: the timer fired early.
type Samples = Rc<RefCell<Vec<i128>>>;

/// `now - deadline` in nanoseconds, signed.
fn lateness(deadline: Instant) -> i128 {
    let now = Instant::now();
    match now.checked_duration_since(deadline) {
        Some(late) => late.as_nanos() as i128,
        None => -((deadline - now).as_nanos() as i128),
    }
}

// ---------------------------------------------------------------------------
// add_timeout

/// Sets a timeout of `DELAY` that records its lateness and sets the next
/// one, `left` in all; the last one says it is done.
fn arm_timeout(gaplic: &mut Gaplic, samples: Samples, left: usize, done: Rc<Cell<bool>>) {
    let deadline = Instant::now() + DELAY;
    gaplic.set_timer(DELAY, move |gaplic| {
        samples.borrow_mut().push(lateness(deadline));
        if left > 1 {
            arm_timeout(gaplic, samples, left - 1, done);
        } else {
            done.set(true);
        }
    });
}

fn timeout_block(gaplic: &mut Gaplic, samples: &Samples, count: usize) {
    let done = Rc::new(Cell::new(false));
    arm_timeout(gaplic, samples.clone(), count, done.clone());
    assert!(gaplic.run_until(|_| done.get()).expect("the loop"));
}

// ---------------------------------------------------------------------------
// GTimer

gobj! {
    /// Waits `count` times for its `GTimer` child, re-arming it each time,
    /// and keeps the lateness of each timeout.
    struct Waiter {
        timer: Option<GobjId>,
        left: usize,
        deadline: Option<Instant>,
        samples: Vec<i128>,
    }
    events {
        /// Wait `count` times.
        EV_START: input top { count: u64 },
        /// The child timer fired.
        EV_TIMEOUT: input bottom,
    }
    states { ST_IDLE, ST_WAITING }
    machine {
        ST_IDLE { EV_START => start -> ST_WAITING }
        ST_WAITING { EV_TIMEOUT => timeout }
    }
    hooks { start_up }
}

impl Waiter {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        self.timer = Some(cx.create_child::<GTimer>("timer", Kw::new())?);
        Ok(())
    }

    fn arm(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let timer = self
            .timer
            .ok_or_else(|| GobjError::failed("the waiter has no timer"))?;
        self.deadline = Some(Instant::now() + DELAY);
        cx.send(
            timer,
            GTimerEvent::EV_SET_TIMER,
            kw! { "seconds" => DELAY.as_secs_f64() },
        )?;
        Ok(())
    }

    fn start(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.left = usize::try_from(ev.get::<u64>("count")?).unwrap_or(usize::MAX);
        self.arm(cx)?;
        Ok(Value::Null)
    }

    fn timeout(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        if let Some(deadline) = self.deadline.take() {
            self.samples.push(lateness(deadline));
        }
        self.left = self.left.saturating_sub(1);
        if self.left > 0 {
            self.arm(cx)?;
        } else {
            cx.set_state(WaiterState::ST_IDLE);
        }
        Ok(Value::Null)
    }
}

fn gtimer_block(gaplic: &mut Gaplic, waiter: GobjId, count: usize) {
    gaplic
        .post(
            waiter,
            WaiterEvent::EV_START,
            kw! { "count" => count as u64 },
        )
        .expect("start the waiter");
    let waited = |g: &mut Gaplic| g.gobj::<Waiter>(waiter).is_some_and(|w| w.left == 0);
    assert!(gaplic.run_until(waited).expect("the loop"));
}

// ---------------------------------------------------------------------------
// thread::sleep

fn sleep_block(samples: &mut Vec<i128>, count: usize) {
    for _ in 0..count {
        let deadline = Instant::now() + DELAY;
        std::thread::sleep(DELAY);
        samples.push(lateness(deadline));
    }
}

// ---------------------------------------------------------------------------

struct Summary {
    p50: f64,
    p99: f64,
    max: f64,
    early: usize,
}

/// Percentiles in microseconds.
fn summary(samples: &[i128]) -> Summary {
    assert_eq!(samples.len(), TIMERS, "every timer fired once");
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| {
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1] as f64 / 1e3
    };
    Summary {
        p50: at(0.50),
        p99: at(0.99),
        max: sorted[sorted.len() - 1] as f64 / 1e3,
        early: sorted.iter().filter(|ns| **ns < 0).count(),
    }
}

fn print(way: &str, s: &Summary) {
    println!(
        "result timer_lateness/{way}: p50 {:.1} us, p99 {:.1} us, max {:.1} us, early {} \
         ({TIMERS} timers of {} ms)",
        s.p50,
        s.p99,
        s.max,
        s.early,
        DELAY.as_millis()
    );
}

fn main() {
    let per_block = TIMERS / BLOCKS;
    let mut gaplic = Gaplic::new("timer-lateness").expect("a gaplic");
    let waiter = gaplic
        .create_gobj::<Waiter>("waiter", None, Kw::new())
        .expect("the waiter");
    let timeouts: Samples = Rc::new(RefCell::new(Vec::with_capacity(TIMERS)));
    let mut sleeps = Vec::with_capacity(TIMERS);

    let start = Instant::now();
    for _ in 0..BLOCKS {
        timeout_block(&mut gaplic, &timeouts, per_block);
        sleep_block(&mut sleeps, per_block);
        gtimer_block(&mut gaplic, waiter, per_block);
    }
    let total = start.elapsed();

    let timeouts = summary(&timeouts.borrow());
    let gtimer = summary(&gaplic.gobj::<Waiter>(waiter).expect("the waiter").samples);
    let sleep = summary(&sleeps);
    assert_eq!(gaplic.timer_count(), 0, "no timer left armed");

    print("add_timeout", &timeouts);
    print("gtimer", &gtimer);
    print("thread_sleep", &sleep);
    let verdict = |p99: f64| {
        if p99 < TARGET_P99.as_secs_f64() * 1e6 {
            "met"
        } else {
            "missed"
        }
    };
    println!(
        "ratio timer_lateness/p99 gaplic/sleep = {:.2} (add_timeout p99 {:.1} us, sleep p99 \
         {:.1} us; target add_timeout p99 < {} us: {}; GTimer p99 {:.1} us: {}; {:.1} s in all)",
        timeouts.p99 / sleep.p99,
        timeouts.p99,
        sleep.p99,
        TARGET_P99.as_micros(),
        verdict(timeouts.p99),
        gtimer.p99,
        verdict(gtimer.p99),
        total.as_secs_f64()
    );
}
