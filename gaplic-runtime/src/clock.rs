//! The clock of a gaplic: monotonic, real or virtual.
//!
//! Timers count `u64` ticks of one microsecond since the clock's origin. A
//! real clock reads `Instant::now()`; a virtual one only moves when told
//! (`Gaplic::advance`, or the loop jumping to the next timer when nothing
//! else is pending), so tests of timer logic never sleep.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct Clock {
    origin: Instant,
    /// `Some(ticks)` for a virtual clock: the time it shows.
    virtual_now: Option<u64>,
}

impl Clock {
    pub(crate) fn real() -> Self {
        Clock {
            origin: Instant::now(),
            virtual_now: None,
        }
    }

    pub(crate) fn virtual_at_zero() -> Self {
        Clock {
            origin: Instant::now(),
            virtual_now: Some(0),
        }
    }

    pub(crate) fn is_virtual(&self) -> bool {
        self.virtual_now.is_some()
    }

    /// Now, in ticks since the origin.
    pub(crate) fn now(&self) -> u64 {
        match self.virtual_now {
            Some(ticks) => ticks,
            None => ticks_of(self.origin.elapsed()),
        }
    }

    /// Now as an `Instant` (for a virtual clock: origin plus its time).
    pub(crate) fn now_instant(&self) -> Instant {
        self.instant_of(self.now())
    }

    /// The tick a timer of `delay` from now is due at: rounded up, so a
    /// timer never fires early.
    pub(crate) fn deadline_after(&self, delay: Duration) -> u64 {
        self.now().saturating_add(ticks_of_ceil(delay))
    }

    /// The `Instant` of tick `ticks`.
    /// Far-future ticks saturate to about a century past the origin.
    pub(crate) fn instant_of(&self, ticks: u64) -> Instant {
        let century = Duration::from_secs(100 * 365 * 24 * 3600);
        let offset = Duration::from_micros(ticks).min(century);
        self.origin + offset
    }

    /// Moves a virtual clock to `ticks` (never backwards); no effect on a
    /// real clock.
    pub(crate) fn set_virtual(&mut self, ticks: u64) {
        if let Some(now) = &mut self.virtual_now {
            *now = (*now).max(ticks);
        }
    }
}

fn ticks_of(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

fn ticks_of_ceil(delay: Duration) -> u64 {
    let micros = delay.as_micros() + u128::from(!delay.subsec_nanos().is_multiple_of(1000));
    u64::try_from(micros).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up() {
        let clock = Clock::virtual_at_zero();
        assert_eq!(clock.deadline_after(Duration::from_nanos(1)), 1);
        assert_eq!(clock.deadline_after(Duration::from_micros(5)), 5);
        assert_eq!(clock.deadline_after(Duration::from_millis(10)), 10_000);
        assert_eq!(clock.deadline_after(Duration::MAX), u64::MAX);
    }

    #[test]
    fn a_virtual_clock_moves_only_forward_when_told() {
        let mut clock = Clock::virtual_at_zero();
        assert!(clock.is_virtual());
        clock.set_virtual(2_000_000);
        assert_eq!(clock.now(), 2_000_000);
        clock.set_virtual(5);
        assert_eq!(clock.now(), 2_000_000);
        assert_eq!(
            clock.instant_of(2_000_000) - clock.instant_of(0),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn a_real_clock_follows_instant() {
        let mut clock = Clock::real();
        let before = clock.now();
        clock.set_virtual(u64::MAX);
        assert!(clock.now() >= before && clock.now() < 60_000_000);
    }
}
