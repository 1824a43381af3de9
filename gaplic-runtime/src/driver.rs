//! The driver of a gaplic: its poll, clock, timers, IO sources and inbox.
//!
//! It owns everything that tells the loop "there is work": timers that are
//! due, sockets that became ready, messages from other threads, and it
//! blocks the thread until one of them comes. It hands the work back to the
//! gaplic one piece at a time and runs none of it.
//!
//! Timers that are due are taken from the wheel into a due queue, and run
//! from there one by one; until it runs, a due timer is still armed, so a
//! timer cancelled by one that ran before it in the same turn never fires
//! (and its cancel answers `true`). A timer may have an owner gobj; the
//! timers of a gobj are cancelled together when it goes.
//!
//! The values the timers carry (`T`) and the messages of the inbox (`M`)
//! are the gaplic's own types: this room only stores them.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Interest, Token};

use crate::clock::Clock;
use crate::gobj::EventKey;
use crate::id::{GobjId, TimerId};
use crate::inbox::{Inbox, InboxReceiver};
use crate::names::FastMap;
use crate::poller::{FIRST_SOURCE, Poller, Wait};
use crate::slab::{Slab, SlabKey};
use crate::timer::{TimerKey, TimerWheel};

/// How long an idle loop keeps checking for messages from other threads
/// before it blocks in the poll, when such messages came recently: a reply
/// that comes back within it costs no system call and no wake-up. A loop
/// with no recent cross-thread traffic blocks at once.
const SPIN_BEFORE_PARK: Duration = Duration::from_micros(50);

/// Looks at the inbox, a pause apart, before the spin starts yielding the
/// core between looks.
const SPIN_ROUNDS: u32 = 512;

/// A timer's value and owner.
struct Armed<T> {
    owner: Option<GobjId>,
    value: T,
}

/// The timers of one gobj, for cancelling them when it goes. Keys of
/// timers that fired or were cancelled stay until the list is compacted.
#[derive(Default)]
struct Owned {
    keys: Vec<TimerKey>,
    live: usize,
}

/// An IO source's owner and the event its readiness is delivered as.
#[derive(Debug)]
struct IoSource {
    owner: GobjId,
    event: EventKey,
}

/// The key of an IO source; its token carries both halves, so a readiness
/// for a source removed since never reaches one that reuses its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SourceKey {
    index: u32,
    generation: u32,
}

impl SlabKey for SourceKey {
    fn from_parts(index: u32, generation: u32) -> Self {
        SourceKey { index, generation }
    }
    fn index(self) -> u32 {
        self.index
    }
    fn generation(self) -> u32 {
        self.generation
    }
}

impl SourceKey {
    /// The token: the slot, and the generation above bit 32 where a token
    /// has room for it (64-bit targets; elsewhere the slot alone).
    fn token(self) -> Token {
        let tagged = (u64::from(self.generation) << 32) | u64::from(self.index);
        let raw = usize::try_from(tagged).unwrap_or(self.index as usize);
        Token(FIRST_SOURCE.0 + raw)
    }
}

/// The source a token names, if it is still registered.
fn source_of(sources: &Slab<SourceKey, IoSource>, token: Token) -> Option<(SourceKey, &IoSource)> {
    let raw = u64::try_from(token.0.checked_sub(FIRST_SOURCE.0)?).ok()?;
    let key = if usize::BITS >= 64 {
        SourceKey::from_parts(raw as u32, (raw >> 32) as u32)
    } else {
        sources.key_at(raw as u32)?
    };
    sources.get(key).map(|source| (key, source))
}

pub(crate) struct Driver<T, M> {
    poller: Poller,
    clock: Clock,
    timers: TimerWheel<Armed<T>>,
    /// Timers taken out of the wheel because they are due, in firing order.
    due: VecDeque<(TimerKey, Armed<T>)>,
    /// Which of `due` are still armed (not cancelled), with their owners.
    due_armed: FastMap<TimerKey, Option<GobjId>>,
    /// Scratch for the wheel's `advance`.
    fired: Vec<(TimerKey, Armed<T>)>,
    owned: FastMap<GobjId, Owned>,
    sources: Slab<SourceKey, IoSource>,
    /// Tokens made ready by the last poll, waiting to be handed out.
    ready: VecDeque<Token>,
    inbox: InboxReceiver<M>,
    /// Messages came from other threads since the loop last blocked.
    remote_traffic: bool,
}

impl<T, M> std::fmt::Debug for Driver<T, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("timers", &self.timer_count())
            .field("virtual_clock", &self.clock.is_virtual())
            .finish_non_exhaustive()
    }
}

impl<T, M> Driver<T, M> {
    /// A driver with a real or virtual clock, and the inbox other threads
    /// send the gaplic called `name`, with `roles`, through.
    pub(crate) fn new(
        name: Arc<str>,
        roles: Arc<[String]>,
        virtual_clock: bool,
    ) -> io::Result<(Self, Arc<Inbox<M>>)> {
        let (poller, waker) = Poller::new()?;
        let (inbox, receiver) = Inbox::new(name, roles, waker);
        let driver = Driver {
            poller,
            clock: if virtual_clock {
                Clock::virtual_at_zero()
            } else {
                Clock::real()
            },
            timers: TimerWheel::new(),
            due: VecDeque::new(),
            due_armed: FastMap::default(),
            fired: Vec::new(),
            owned: FastMap::default(),
            sources: Slab::default(),
            ready: VecDeque::new(),
            inbox: receiver,
            remote_traffic: false,
        };
        Ok((driver, inbox))
    }

    // ----- the clock ------------------------------------------------------

    /// Now, as an `Instant` (for a virtual clock: its origin plus its time).
    pub(crate) fn now(&self) -> Instant {
        self.clock.now_instant()
    }

    pub(crate) fn is_virtual(&self) -> bool {
        self.clock.is_virtual()
    }

    /// The tick `delay` from now.
    pub(crate) fn deadline_after(&self, delay: Duration) -> u64 {
        self.clock.deadline_after(delay)
    }

    /// Moves a virtual clock to the next tick at or before `target` where a
    /// timer is due, and returns `true`; or, when none is, to `target`, and
    /// returns `false`.
    pub(crate) fn step_virtual(&mut self, target: u64) -> bool {
        match self.timers.next_deadline().filter(|t| *t <= target) {
            Some(next) => {
                self.clock.set_virtual(next);
                true
            }
            None => {
                self.clock.set_virtual(target);
                false
            }
        }
    }

    // ----- timers -----------------------------------------------------------

    /// Arms a timer `delay` from now, owned by `owner` if any.
    pub(crate) fn set_timer(
        &mut self,
        delay: Duration,
        owner: Option<GobjId>,
        value: T,
    ) -> TimerId {
        let deadline = self.clock.deadline_after(delay);
        let key = self.timers.insert(deadline, Armed { owner, value });
        if let Some(owner) = owner {
            let owned = self.owned.entry(owner).or_default();
            owned.keys.push(key);
            owned.live += 1;
        }
        TimerId(key)
    }

    /// Disarms timer `id`, in the wheel or due already; `false` when it
    /// fired or was cancelled before.
    pub(crate) fn cancel_timer(&mut self, id: TimerId) -> bool {
        let owner = match self.timers.cancel(id.0) {
            Some(armed) => armed.owner,
            None => match self.due_armed.remove(&id.0) {
                Some(owner) => owner,
                None => return false,
            },
        };
        if let Some(owner) = owner {
            self.forget_owned(owner);
        }
        true
    }

    /// Disarms every timer of `owner`.
    pub(crate) fn cancel_owned(&mut self, owner: GobjId) {
        let Some(owned) = self.owned.remove(&owner) else {
            return;
        };
        for key in owned.keys {
            if self.timers.cancel(key).is_none() {
                self.due_armed.remove(&key);
            }
        }
    }

    /// One timer of `owner` is gone: count it, and compact the list when
    /// it holds mostly dead keys.
    fn forget_owned(&mut self, owner: GobjId) {
        let Some(owned) = self.owned.get_mut(&owner) else {
            return;
        };
        owned.live -= 1;
        if owned.live == 0 {
            self.owned.remove(&owner);
        } else if owned.keys.len() > 2 * owned.live + 8 {
            let (timers, due) = (&self.timers, &self.due_armed);
            owned
                .keys
                .retain(|key| timers.get(*key).is_some() || due.contains_key(key));
        }
    }

    /// Disarms every timer. Their ids stay stale for good: the wheel keeps
    /// its generations, so no later timer answers to one of them.
    pub(crate) fn clear_timers(&mut self) {
        self.timers.clear();
        self.due.clear();
        self.due_armed.clear();
        self.owned.clear();
    }

    /// How many timers are armed (due ones not yet run included).
    pub(crate) fn timer_count(&self) -> usize {
        self.timers.len() + self.due_armed.len()
    }

    /// Takes the timers due now out of the wheel, behind those due already.
    pub(crate) fn collect_due(&mut self) {
        let now = self.clock.now();
        if self.timers.next_deadline().is_none_or(|next| next > now) {
            return;
        }
        let mut fired = std::mem::take(&mut self.fired);
        self.timers.advance(now, &mut fired);
        for (key, armed) in fired.drain(..) {
            self.due_armed.insert(key, armed.owner);
            self.due.push_back((key, armed));
        }
        self.fired = fired;
    }

    /// The next due timer that is still armed: its owner and value. It is
    /// disarmed now.
    pub(crate) fn pop_due(&mut self) -> Option<(Option<GobjId>, T)> {
        while let Some((key, armed)) = self.due.pop_front() {
            if self.due_armed.remove(&key).is_some() {
                if let Some(owner) = armed.owner {
                    self.forget_owned(owner);
                }
                return Some((armed.owner, armed.value));
            }
        }
        None
    }

    // ----- IO sources -------------------------------------------------------

    /// Registers `source` for `owner`: its readiness is handed out as
    /// `event` for `owner`.
    ///
    pub(crate) fn register(
        &mut self,
        source: &mut (impl Source + ?Sized),
        interest: Interest,
        owner: GobjId,
        event: EventKey,
    ) -> io::Result<Token> {
        let key = self.sources.insert(IoSource { owner, event });
        if let Err(error) = self
            .poller
            .registry()
            .register(source, key.token(), interest)
        {
            self.sources.remove(key);
            return Err(error);
        }
        Ok(key.token())
    }

    /// Removes a source registered with [`register`](Driver::register).
    pub(crate) fn deregister(&mut self, token: Token, source: &mut (impl Source + ?Sized)) {
        if let Some((key, _)) = source_of(&self.sources, token) {
            self.sources.remove(key);
            // The source may be closed already; nothing else to undo.
            let _ = self.poller.registry().deregister(source);
        }
    }

    /// The next ready source: its owner and the event to deliver.
    pub(crate) fn pop_ready(&mut self) -> Option<(GobjId, EventKey)> {
        while let Some(token) = self.ready.pop_front() {
            if let Some((_, source)) = source_of(&self.sources, token) {
                return Some((source.owner, source.event.clone()));
            }
        }
        None
    }

    // ----- the inbox --------------------------------------------------------

    /// The next message from another thread.
    #[inline]
    pub(crate) fn recv(&mut self) -> Option<M> {
        let message = self.inbox.try_recv();
        self.remote_traffic |= message.is_some();
        message
    }

    /// Whether a message from another thread waits.
    pub(crate) fn has_message(&mut self) -> bool {
        self.inbox.has_message()
    }

    /// Closes the inbox: later sends fail; every send that succeeded before
    /// is then in it. `false` when it was closed already.
    pub(crate) fn close_inbox(&self) -> bool {
        self.inbox.close_and_settle()
    }

    pub(crate) fn inbox(&self) -> &Arc<Inbox<M>> {
        self.inbox.shared()
    }

    // ----- waiting ----------------------------------------------------------

    /// Blocks until there is something to do: not at all when `busy`;
    /// otherwise until the next timer, an IO event, or another thread. A
    /// virtual clock jumps to the next timer instead of waiting for it.
    pub(crate) fn wait(&mut self, busy: bool) -> io::Result<()> {
        let wait = if busy || !self.due.is_empty() {
            Wait::NoBlock
        } else {
            match self.timers.next_deadline() {
                Some(tick) if self.clock.is_virtual() => {
                    self.clock.set_virtual(tick);
                    Wait::NoBlock
                }
                Some(tick) => Wait::Until(self.clock.instant_of(tick)),
                None => Wait::Forever,
            }
        };
        if wait == Wait::NoBlock {
            // Without IO sources nothing can be ready: spare the system call.
            if self.sources.len() == 0 {
                return Ok(());
            }
            return self.poll(Wait::NoBlock);
        }
        if std::mem::take(&mut self.remote_traffic) && self.spin_for_inbox(wait) {
            return Ok(());
        }
        let wait = if self.inbox.park() {
            Wait::NoBlock
        } else {
            wait
        };
        let polled = self.poll(wait);
        self.inbox.unpark();
        polled
    }

    fn poll(&mut self, wait: Wait) -> io::Result<()> {
        let tokens = self.poller.wait(wait)?.map(mio::event::Event::token);
        self.ready.extend(tokens);
        Ok(())
    }

    /// Checks for messages from other threads for a short while before the
    /// loop blocks; returns whether any came (kept for `recv`).
    fn spin_for_inbox(&mut self, wait: Wait) -> bool {
        let start = Instant::now();
        let limit = match wait {
            Wait::Until(at) => at.min(start + SPIN_BEFORE_PARK),
            _ => start + SPIN_BEFORE_PARK,
        };
        let mut round = 0_u32;
        loop {
            if self.inbox.has_message() {
                return true;
            }
            round += 1;
            if round <= SPIN_ROUNDS {
                // One pause between looks: a pause is long on recent
                // processors (over a hundred cycles), and a reply that
                // comes in the middle of a long run of them waits for it.
                std::hint::spin_loop();
                if !round.is_multiple_of(32) {
                    continue;
                }
            } else {
                // Give the core away: the thread that will answer may be
                // waiting for it (two gaplics on one core).
                std::thread::yield_now();
            }
            if Instant::now() >= limit {
                return false;
            }
        }
    }
}
