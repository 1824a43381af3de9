//! The wait of the loop: one `mio::Poll` that wakes for IO, for another
//! thread (`mio::Waker`), or at the next timer's deadline.
//!
//! `epoll_wait` takes whole milliseconds, which would make a 10 ms timer up
//! to a millisecond late. On Linux the deadline is therefore a `timerfd`
//! registered in the same poll, armed to the nanosecond; elsewhere the poll
//! timeout is used.

use std::io;
use std::sync::Arc;
use std::time::Instant;

use mio::{Events, Interest, Poll, Token, Waker};

/// The token of the cross-thread waker.
pub(crate) const WAKER: Token = Token(0);
/// The token of the deadline timer.
const DEADLINE: Token = Token(1);
/// The first token free for sockets.
pub(crate) const FIRST_SOURCE: Token = Token(2);

/// How long `wait` may block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Collect what is ready and return.
    NoBlock,
    /// Until the deadline, or earlier if woken.
    Until(Instant),
    /// Until woken.
    Forever,
}

pub(crate) struct Poller {
    poll: Poll,
    events: Events,
    deadline: Deadline,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller").finish_non_exhaustive()
    }
}

impl Poller {
    /// The poll and the waker other threads use to wake it.
    pub(crate) fn new() -> io::Result<(Self, Arc<Waker>)> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let deadline = Deadline::new(&poll)?;
        Ok((
            Poller {
                poll,
                events: Events::with_capacity(256),
                deadline,
            },
            waker,
        ))
    }

    /// Where sockets register.
    pub(crate) fn registry(&self) -> &mio::Registry {
        self.poll.registry()
    }

    /// Blocks as `wait` says; returns the tokens that became ready (the
    /// waker's and the deadline's are consumed here).
    pub(crate) fn wait(
        &mut self,
        wait: Wait,
    ) -> io::Result<impl Iterator<Item = &mio::event::Event>> {
        let timeout = match wait {
            Wait::NoBlock => Some(std::time::Duration::ZERO),
            Wait::Forever => None,
            Wait::Until(at) => self.deadline.arm(at)?,
        };
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        let mut deadline_fired = false;
        for event in &self.events {
            deadline_fired |= event.token() == DEADLINE;
        }
        if deadline_fired {
            self.deadline.fired();
        }
        Ok(self
            .events
            .iter()
            .filter(|e| e.token() != WAKER && e.token() != DEADLINE))
    }
}

#[cfg(target_os = "linux")]
struct Deadline {
    timer: std::os::fd::OwnedFd,
    armed: Option<Instant>,
}

#[cfg(target_os = "linux")]
impl Deadline {
    fn new(poll: &Poll) -> io::Result<Self> {
        use rustix::time::{TimerfdClockId, TimerfdFlags, timerfd_create};
        use std::os::fd::AsRawFd;
        let timer = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        poll.registry().register(
            &mut mio::unix::SourceFd(&timer.as_raw_fd()),
            DEADLINE,
            Interest::READABLE,
        )?;
        Ok(Deadline { timer, armed: None })
    }

    /// Arms the timer for `at`; returns the poll timeout to use (none: the
    /// timer wakes the poll).
    fn arm(&mut self, at: Instant) -> io::Result<Option<std::time::Duration>> {
        use rustix::time::{Itimerspec, TimerfdTimerFlags, Timespec, timerfd_settime};
        let now = Instant::now();
        if at <= now {
            return Ok(Some(std::time::Duration::ZERO));
        }
        if self.armed != Some(at) {
            let delay = at - now;
            let spec = Itimerspec {
                it_interval: Timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: Timespec {
                    tv_sec: i64::try_from(delay.as_secs()).unwrap_or(i64::MAX),
                    tv_nsec: i64::from(delay.subsec_nanos()),
                },
            };
            timerfd_settime(&self.timer, TimerfdTimerFlags::empty(), &spec)?;
            self.armed = Some(at);
        }
        Ok(None)
    }

    /// The timer expired: read it so it can fire again.
    fn fired(&mut self) {
        let mut count = [0_u8; 8];
        // Nonblocking: a spurious readiness reads nothing, which is fine.
        let _ = rustix::io::read(&self.timer, &mut count);
        self.armed = None;
    }
}

#[cfg(not(target_os = "linux"))]
struct Deadline;

#[cfg(not(target_os = "linux"))]
impl Deadline {
    fn new(_: &Poll) -> io::Result<Self> {
        Ok(Deadline)
    }

    /// The poll timeout itself: the platform's poll rounds it to its own
    /// granularity.
    fn arm(&mut self, at: Instant) -> io::Result<Option<std::time::Duration>> {
        Ok(Some(at.saturating_duration_since(Instant::now())))
    }

    fn fired(&mut self) {}
}
