//! The hierarchical timing wheel and its keys.
//!
//! The layout is described in the [module documentation](crate::timer);
//! the comments on [`TimerWheel`]'s fields give the measurements behind
//! each choice.

use std::fmt;
use std::mem;

/// Bits of a deadline one level resolves.
const SLOT_BITS: u32 = 6;

/// Slots per level, one bit each in the level's occupancy word.
const SLOTS: usize = 1 << SLOT_BITS;

/// Levels of the wheel: 11 × 6 = 66 bits cover every `u64` deadline, so no
/// deadline is ever clamped. The top level uses only 16 of its slots.
const LEVELS: usize = 11;

/// The list of timers inserted already overdue, after the slot lists.
const OVERDUE: usize = LEVELS * SLOTS;

/// Slot lists plus the overdue list.
const LISTS: usize = OVERDUE + 1;

/// The end of the slab's free list.
const NIL: u32 = u32::MAX;

/// Cancels whose live-count update is held back, at most.
const PENDING: usize = 64;

/// Stale keys (left by cancelled timers) the lists may hold before an
/// insert sweeps them, on top of twice the number of armed timers. Small
/// under test, so that the randomized tests sweep often.
const SWEEP_SLACK: usize = if cfg!(test) { 16 } else { 4096 };

/// Lists longer than this give their buffer back to the allocator once
/// processed, so that a burst of timers does not pin memory in hundreds of
/// slots forever.
const KEEP_CAPACITY: usize = 1024;

/// The handle of one timer in a [`TimerWheel`].
///
/// A key names a slot of the wheel's slab plus the generation of that slot.
/// When a timer fires or is cancelled its slot goes back to the slab with
/// the next generation, so an old key never reaches the timer that reuses
/// the slot: [`cancel`](TimerWheel::cancel), [`get`](TimerWheel::get) and
/// [`deadline`](TimerWheel::deadline) simply answer `None` for it. Holding
/// on to a stale key is therefore harmless.
///
/// Keys are small `Copy` values; compare them, hash them, store them in
/// the objects that own the timers.
///
/// # Examples
///
/// ```
/// use gaplic::timer::{TimerKey, TimerWheel};
///
/// let mut wheel = TimerWheel::new();
/// let first: TimerKey = wheel.insert(10, "first");
/// assert_eq!(wheel.cancel(first), Some("first"));
///
/// // The slot is reused, under a new generation.
/// let second = wheel.insert(10, "second");
/// assert_ne!(first, second);
/// assert_eq!(wheel.cancel(first), None);
/// assert_eq!(wheel.get(second), Some(&"second"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimerKey {
    index: u32,
    generation: u32,
}

/// One slot of the slab (24 bytes for a `u64` value on 64-bit targets: the
/// list index fits in the padding after the tag).
enum Entry<T> {
    /// Holds an armed timer, filed in list `list`.
    Armed {
        generation: u32,
        list: u16,
        deadline: u64,
        value: T,
    },
    /// Holds no timer; the next one placed here gets `generation`. A slot
    /// reaching generation `u32::MAX` is retired rather than reused, as
    /// keys of all its earlier generations may still be around.
    Free { generation: u32, next_free: u32 },
}

/// A hierarchical timing wheel: every timer of one single-threaded event
/// loop, keyed by [`TimerKey`], each carrying a value of type `T`.
///
/// Time is counted in abstract `u64` ticks; the wheel only moves forward,
/// when [`advance`](Self::advance) is called. Inserting and cancelling cost
/// O(1); advancing costs O(timers fired or moved + levels), however many
/// ticks it skips. Timers fire in deadline order, ties in the order they
/// were inserted. See the [module documentation](crate::timer) for the
/// layout.
///
/// # Examples
///
/// ```
/// use gaplic::timer::TimerWheel;
///
/// let mut wheel = TimerWheel::new();
/// wheel.insert(3_000, "slow");
/// let fast = wheel.insert(20, "fast");
/// wheel.insert(20, "fast too");
///
/// let mut fired = Vec::new();
/// wheel.advance(100, &mut fired);
/// assert_eq!(fired, [(fast, "fast"), (fired[1].0, "fast too")]);
///
/// fired.clear();
/// wheel.advance(1_000_000, &mut fired);
/// assert_eq!(fired.len(), 1);
/// assert!(wheel.is_empty());
/// ```
pub struct TimerWheel<T> {
    /// The tick the wheel stands at.
    now: u64,
    /// The slab every timer lives in; keys index it. A fired or cancelled
    /// timer's slot goes straight back on the free list.
    entries: Vec<Entry<T>>,
    /// First free slab slot, [`NIL`] when none.
    free_head: u32,
    /// Armed timers.
    len: usize,
    /// Keys in all lists, stale ones included.
    filed: usize,
    /// Per level, bit `s` is set when slot `s` has a non-empty list.
    occupied: [u64; LEVELS],
    /// The keys filed under each slot, level-major, then at [`OVERDUE`]
    /// those of the timers inserted with a deadline already passed, which
    /// fire first on the next advance.
    ///
    /// Lists are `Vec`s of keys in arrival order, and cancelling leaves the
    /// key behind, stale, to be skipped when its list is processed (lazy
    /// removal: its generation no longer matches the slab). Measured
    /// against two alternatives on the `timers` bench (1 M random timers
    /// over 10 M ticks, cancel half, fire the rest; best of 5 to 12 runs
    /// on a shared machine):
    /// - an intrusive doubly-linked list threaded through the slab also
    ///   unlinks in O(1), but a cancel then touches both neighbours, two
    ///   more cache misses, and walking a list chases one dependent load at
    ///   a time where a `Vec` is read in order: cancelling took twice as
    ///   long (180 to 215 ns against 80 to 110), firing 10 to 20% longer,
    ///   inserting the same;
    /// - lists of (index, deadline) plus a bitmap of armed slots, so that
    ///   moving a timer down a level reads no slab entry: firing got about
    ///   20% cheaper, but inserting 30% and cancelling 50% dearer (twice the
    ///   bytes per key, the bitmap, the slot recomputed from the deadline),
    ///   and event loops insert and cancel far more timers than they fire.
    lists: Box<[Vec<TimerKey>]>,
    /// How many keys of each list name an armed timer, counting the
    /// cancels still in `pending` as armed. A list whose count is settled
    /// to zero is dropped then, so that occupancy bits only mark lists
    /// with armed timers, apart from pending cancels, which
    /// `next_deadline` accounts for: it never announces a slot that holds
    /// only cancelled timers.
    live: Box<[u32]>,
    /// The lists of timers cancelled since the counts were last settled.
    ///
    /// Decrementing `live` inside `cancel` would store to an address that
    /// depends on the slab load, the one cache miss of a cancel: the CPU
    /// then overlaps far fewer cancels' misses, and on the bench that one
    /// store made cancelling 1.4 to 1.6 times slower. Appending to this
    /// short buffer stores to a known address instead; `settle` applies
    /// the batch when it is full, before advancing and before a sweep, and
    /// `next_deadline` subtracts what is pending.
    pending: [u16; PENDING],
    /// How many entries of `pending` are meaningful, less than `PENDING`.
    pending_len: usize,
    /// No overdue timer is due before this (`u64::MAX` when there is none).
    overdue_min: u64,
    /// Scratch for ordering the overdue timers, kept to avoid allocating.
    scratch: Vec<(u64, TimerKey)>,
}

impl<T> TimerWheel<T> {
    /// An empty wheel standing at tick 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic::timer::TimerWheel;
    ///
    /// let wheel = TimerWheel::<()>::new();
    /// assert!(wheel.is_empty());
    /// assert_eq!(wheel.now(), 0);
    /// assert_eq!(wheel.next_deadline(), None);
    /// ```
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty wheel with room for `capacity` timers before its slab
    /// reallocates.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic::timer::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::with_capacity(1024);
    /// for tick in 0..1024 {
    ///     wheel.insert(tick, tick);
    /// }
    /// assert_eq!(wheel.len(), 1024);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            now: 0,
            entries: Vec::with_capacity(capacity),
            free_head: NIL,
            len: 0,
            filed: 0,
            occupied: [0; LEVELS],
            lists: (0..LISTS).map(|_| Vec::new()).collect(),
            live: vec![0; LISTS].into_boxed_slice(),
            pending: [0; PENDING],
            pending_len: 0,
            overdue_min: u64::MAX,
            scratch: Vec::new(),
        }
    }

    /// The tick the wheel has been advanced to; 0 for a new wheel.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic::timer::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::<()>::new();
    /// wheel.advance(42, &mut Vec::new());
    /// assert_eq!(wheel.now(), 42);
    /// ```
    pub fn now(&self) -> u64 {
        self.now
    }

    /// How many timers are armed: inserted, neither fired nor cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic::timer::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// let key = wheel.insert(5, ());
    /// wheel.insert(6, ());
    /// assert_eq!(wheel.len(), 2);
    /// wheel.cancel(key);
    /// assert_eq!(wheel.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no timer is armed.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic::timer::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// assert!(wheel.is_empty());
    /// wheel.insert(5, ());
    /// assert!(!wheel.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Arms a timer that fires at tick `deadline` carrying `value`, and
    /// returns its key.
    ///
    /// A deadline at or before [`now`](Self::now) is not an error: the
    /// timer fires on the next [`advance`](Self::advance), before any timer
    /// that was not yet due.
    ///
    /// # Panics
    ///
    /// When the slab already has `u32::MAX` slots, the most keys can name.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic::timer::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// wheel.advance(100, &mut Vec::new());
    /// let late = wheel.insert(50, "late");
    /// assert_eq!(wheel.deadline(late), Some(50));
    ///
    /// let mut fired = Vec::new();
    /// wheel.advance(100, &mut fired);
    /// assert_eq!(fired, [(late, "late")]);
    /// ```
    #[inline]
    pub fn insert(&mut self, deadline: u64, value: T) -> TimerKey {
        if self.filed > 3 * self.len + SWEEP_SLACK {
            self.sweep();
        }
        let list = self.list_for(deadline);
        let key = self.alloc(list, deadline, value);
        self.len += 1;
        if list == OVERDUE {
            self.overdue_min = self.overdue_min.min(deadline);
        }
        self.file(list, key);
        key
    }

    /// Disarms the timer of `key` and gives its value back; `None` when the
    /// key is stale (the timer already fired or was cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic::timer::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// let key = wheel.insert(10, "timeout");
    /// assert_eq!(wheel.cancel(key), Some("timeout"));
    /// assert_eq!(wheel.cancel(key), None);
    ///
    /// let mut fired = Vec::new();
    /// wheel.advance(10, &mut fired);
    /// assert!(fired.is_empty());
    /// ```
    #[inline]
    pub fn cancel(&mut self, key: TimerKey) -> Option<T> {
        let list = match *self.entries.get(key.index as usize)? {
            Entry::Armed {
                generation, list, ..
            } if generation == key.generation => list,
            _ => return None,
        };
        let value = self.release(key);
        self.len -= 1;
        // The key stays in its list, stale; only its count is held back.
        self.pending[self.pending_len % PENDING] = list;
        self.pending_len += 1;
        if self.pending_len == PENDING {
            self.settle();
        }
        Some(value)
    }

    /// The deadline of the timer of `key`; `None` when the key is stale.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic::timer::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// let key = wheel.insert(1_500, ());
    /// assert_eq!(wheel.deadline(key), Some(1_500));
    /// wheel.advance(2_000, &mut Vec::new());
    /// assert_eq!(wheel.deadline(key), None);
    /// ```
    pub fn deadline(&self, key: TimerKey) -> Option<u64> {
        match *self.entries.get(key.index as usize)? {
            Entry::Armed {
                generation,
                deadline,
                ..
            } if generation == key.generation => Some(deadline),
            _ => None,
        }
    }

    /// The value of the timer of `key`; `None` when the key is stale.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic::timer::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// let key = wheel.insert(7, String::from("retry"));
    /// assert_eq!(wheel.get(key).map(String::as_str), Some("retry"));
    /// wheel.cancel(key);
    /// assert_eq!(wheel.get(key), None);
    /// ```
    pub fn get(&self, key: TimerKey) -> Option<&T> {
        match self.entries.get(key.index as usize)? {
            Entry::Armed {
                generation, value, ..
            } if *generation == key.generation => Some(value),
            _ => None,
        }
    }

    /// Disarms every timer: their keys are stale from now on, like those of
    /// cancelled timers, and no later timer answers to one of them.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic::timer::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// let old = wheel.insert(10, "old");
    /// wheel.clear();
    /// assert!(wheel.is_empty());
    /// let new = wheel.insert(10, "new");
    /// assert_ne!(old, new);
    /// assert_eq!(wheel.cancel(old), None);
    /// assert_eq!(wheel.get(new), Some(&"new"));
    /// ```
    pub fn clear(&mut self) {
        for index in 0..self.entries.len() {
            if let Entry::Armed { generation, .. } = self.entries[index] {
                let key = TimerKey {
                    index: index as u32,
                    generation,
                };
                drop(self.release(key));
            }
        }
        for list in self.lists.iter_mut() {
            list.clear();
        }
        self.live.fill(0);
        self.occupied = [0; LEVELS];
        self.pending_len = 0;
        self.overdue_min = u64::MAX;
        self.len = 0;
        self.filed = 0;
    }

    /// A tick at which [`advance`](Self::advance) will make progress, or
    /// `None` when no timer is armed.
    ///
    /// It is never later than the earliest deadline, so an event loop may
    /// sleep until then, and it is always the start of a slot holding an
    /// armed timer, never of one whose timers were all cancelled. It may be
    /// earlier than the deadline: a timer due far ahead sits in a coarse
    /// slot, and the tick returned is then the start of that slot, where
    /// advancing moves the timer to a finer level. Sleeping until each
    /// answer reaches the earliest deadline in at most one step per level.
    /// For a timer inserted already overdue it is that timer's deadline,
    /// which may lie before [`now`](Self::now).
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic::timer::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// assert_eq!(wheel.next_deadline(), None);
    ///
    /// wheel.insert(40, ());
    /// assert_eq!(wheel.next_deadline(), Some(40));
    ///
    /// // A far deadline is announced by the start of its coarse slot.
    /// let mut wheel = TimerWheel::new();
    /// wheel.insert(1_000_000, ());
    /// let mut fired = Vec::new();
    /// while fired.is_empty() {
    ///     let tick = wheel.next_deadline().unwrap();
    ///     assert!(tick <= 1_000_000);
    ///     wheel.advance(tick, &mut fired);
    /// }
    /// assert_eq!(wheel.now(), 1_000_000);
    /// ```
    pub fn next_deadline(&self) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        if self.armed_in(OVERDUE) > 0 {
            return Some(self.overdue_min);
        }
        // Lower levels expire first (see `next_slot`); within a level, the
        // lowest bit. Lists left with only cancelled timers by the pending
        // cancels are skipped.
        for (level, &occupied) in self.occupied.iter().enumerate() {
            let mut bits = occupied;
            while bits != 0 {
                let slot = bits.trailing_zeros() as usize;
                if self.armed_in(level * SLOTS + slot) > 0 {
                    return Some(slot_start(self.now, level, slot));
                }
                bits &= bits - 1;
            }
        }
        unreachable!("{} timers armed but none filed: {self:?}", self.len)
    }

    /// Moves the wheel to tick `now` and appends every timer due at or
    /// before it to `fired`, with its key.
    ///
    /// Timers come out in deadline order, ties in the order they were
    /// inserted, however far `now` jumps: a virtual clock may skip hours in
    /// one call. The cost is proportional to the timers fired or moved
    /// between levels plus the number of levels, never to the ticks
    /// skipped. `fired` is only appended to, so one buffer can serve every
    /// call without allocating. A `now` before [`now`](Self::now) does not
    /// move the wheel back; it only fires the overdue timers.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic::timer::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// let hour = 3_600_000_000; // in microseconds
    /// wheel.insert(2 * hour, "b");
    /// wheel.insert(hour, "a");
    /// wheel.insert(5, "first");
    ///
    /// let mut fired = Vec::new();
    /// wheel.advance(3 * hour, &mut fired);
    /// let values: Vec<_> = fired.iter().map(|&(_, v)| v).collect();
    /// assert_eq!(values, ["first", "a", "b"]);
    /// assert_eq!(wheel.now(), 3 * hour);
    /// ```
    pub fn advance(&mut self, now: u64, fired: &mut Vec<(TimerKey, T)>) {
        self.settle();
        let target = now.max(self.now);
        if self.live[OVERDUE] > 0 {
            self.fire_overdue(fired);
        }
        while let Some((level, slot)) = self.next_slot() {
            let start = slot_start(self.now, level, slot);
            if start > target {
                break;
            }
            // Standing at the start of the slot, each of its timers is
            // either due now (level 0) or belongs on a lower level.
            self.now = start;
            let list = level * SLOTS + slot;
            let keys = self.take_list(list);
            if level == 0 {
                self.fire_keys(&keys, start, fired);
            } else {
                self.cascade(&keys, level, start);
            }
            self.restore_list(list, keys);
        }
        self.now = target;
    }

    /// The list a timer due at `deadline` is filed in now.
    #[inline]
    fn list_for(&self, deadline: u64) -> usize {
        if deadline <= self.now {
            OVERDUE
        } else {
            let (level, slot) = position(self.now, deadline);
            level * SLOTS + slot
        }
    }

    /// Appends `key`, of an armed timer, to list `list`.
    #[inline]
    fn file(&mut self, list: usize, key: TimerKey) {
        self.lists[list].push(key);
        self.live[list] += 1;
        self.filed += 1;
        if list != OVERDUE {
            self.occupied[list / SLOTS] |= 1 << (list % SLOTS);
        }
    }

    /// How many armed timers list `list` holds, net of pending cancels.
    fn armed_in(&self, list: usize) -> u32 {
        let pending = self.pending[..self.pending_len]
            .iter()
            .filter(|&&l| usize::from(l) == list);
        self.live[list] - pending.count() as u32
    }

    /// The earliest occupied slot, as (level, slot); the counts must be
    /// settled.
    ///
    /// Every timer on level `l` is due inside the current span of level
    /// `l + 1` (that is what [`position`] means), after the slot of level
    /// `l` the wheel stands in. So a lower level always expires first, and
    /// on a level no occupied slot lies behind the cursor: the lowest set
    /// bit is the next slot, no rotation needed, as the assertion checks.
    fn next_slot(&self) -> Option<(usize, usize)> {
        let level = self.occupied.iter().position(|&bits| bits != 0)?;
        let bits = self.occupied[level];
        let slot = bits.trailing_zeros() as usize;
        debug_assert!(
            {
                let cursor = (self.now >> (level as u32 * SLOT_BITS)) as usize & (SLOTS - 1);
                if level == 0 {
                    slot >= cursor
                } else {
                    slot > cursor
                }
            },
            "level {level} has slot {slot} occupied behind the cursor at now {} \
             (occupancy {bits:#018x}): {self:?}",
            self.now
        );
        debug_assert!(
            self.pending_len == 0 && self.live[level * SLOTS + slot] > 0,
            "level {level} slot {slot} occupied with no armed timer: {self:?}"
        );
        Some((level, slot))
    }

    /// Takes the keys of list `list` out, leaving it empty.
    fn take_list(&mut self, list: usize) -> Vec<TimerKey> {
        if list == OVERDUE {
            self.overdue_min = u64::MAX;
        } else {
            self.occupied[list / SLOTS] &= !(1 << (list % SLOTS));
        }
        self.live[list] = 0;
        let keys = mem::take(&mut self.lists[list]);
        self.filed -= keys.len();
        keys
    }

    /// Gives a processed list's buffer back, if it is small.
    fn restore_list(&mut self, list: usize, mut keys: Vec<TimerKey>) {
        debug_assert!(
            self.lists[list].is_empty(),
            "list {list} refilled while it was out: {self:?}"
        );
        if keys.capacity() <= KEEP_CAPACITY {
            keys.clear();
            self.lists[list] = keys;
        }
    }

    /// Fires the armed timers of a level-0 slot, all due at tick `at`, in
    /// list order, and drops the stale keys.
    fn fire_keys(&mut self, keys: &[TimerKey], at: u64, fired: &mut Vec<(TimerKey, T)>) {
        for &key in keys {
            if let Some(deadline) = self.deadline(key) {
                debug_assert_eq!(
                    deadline, at,
                    "timer {key:?} fires at the wrong tick: {self:?}"
                );
                fired.push((key, self.release(key)));
                self.len -= 1;
            }
        }
    }

    /// Moves the armed timers of the slot of `level` starting at tick
    /// `start` (where the wheel now stands) down to the lists they now
    /// belong in, and drops the stale keys. Keys keep their order, so ties
    /// keep firing in insertion order.
    fn cascade(&mut self, keys: &[TimerKey], level: usize, start: u64) {
        let now = self.now;
        for &key in keys {
            let (list, deadline) = match &mut self.entries[key.index as usize] {
                Entry::Armed {
                    generation,
                    list,
                    deadline,
                    ..
                } if *generation == key.generation => {
                    let (level, slot) = position(now, *deadline);
                    *list = (level * SLOTS + slot) as u16;
                    (level * SLOTS + slot, *deadline)
                }
                _ => continue,
            };
            debug_assert!(
                deadline >= start
                    && deadline - start < 1 << (level as u32 * SLOT_BITS)
                    && list / SLOTS < level,
                "timer {key:?} due at {deadline} found in the slot of level {level} \
                 starting at {start}, moved to list {list}: {self:?}"
            );
            self.file(list, key);
        }
    }

    /// Fires the timers inserted overdue, in deadline order.
    fn fire_overdue(&mut self, fired: &mut Vec<(TimerKey, T)>) {
        let keys = self.take_list(OVERDUE);
        let mut order = mem::take(&mut self.scratch);
        order.extend(
            keys.iter()
                .filter_map(|&key| Some((self.deadline(key)?, key))),
        );
        // A stable sort: equal deadlines keep their insertion order.
        if !order.is_sorted_by_key(|&(deadline, _)| deadline) {
            order.sort_by_key(|&(deadline, _)| deadline);
        }
        for (_, key) in order.drain(..) {
            fired.push((key, self.release(key)));
            self.len -= 1;
        }
        self.scratch = order;
        self.restore_list(OVERDUE, keys);
    }

    /// Applies the pending cancels to the live counts, and drops the lists
    /// they leave with no armed timer: their keys are all stale.
    #[inline(never)]
    fn settle(&mut self) {
        for i in 0..self.pending_len {
            let list = usize::from(self.pending[i]);
            debug_assert!(
                self.live[list] > 0,
                "cancelled timer missing from list {list}: {self:?}"
            );
            self.live[list] -= 1;
            if self.live[list] == 0 {
                let keys = self.take_list(list);
                self.restore_list(list, keys);
            }
        }
        self.pending_len = 0;
    }

    /// Drops every stale key from the lists.
    ///
    /// An insert runs it when the lists hold more than three keys per armed
    /// timer (plus slack). Its cost, the keys it visits, is then less than
    /// 1.5 times the stale ones, each left by a cancel: O(1) amortized per
    /// cancel. Between inserts the lists only shrink, so they never hold
    /// more than three times the peak of armed timers, plus the slack.
    #[cold]
    fn sweep(&mut self) {
        self.settle();
        let entries = &self.entries;
        let armed = |key: &TimerKey| {
            matches!(
                entries[key.index as usize],
                Entry::Armed { generation, .. } if generation == key.generation
            )
        };
        for (list, keys) in self.lists.iter_mut().enumerate() {
            keys.retain(armed);
            debug_assert_eq!(
                keys.len(),
                self.live[list] as usize,
                "sweep finds list {list} with a wrong live count"
            );
        }
        self.filed = self.len;
    }

    /// Places an armed timer in a free slab slot, or a new one.
    #[inline]
    fn alloc(&mut self, list: usize, deadline: u64, value: T) -> TimerKey {
        let (index, generation) = self.free_slot();
        let entry = Entry::Armed {
            generation,
            list: list as u16,
            deadline,
            value,
        };
        match self.entries.get_mut(index as usize) {
            Some(slot) => *slot = entry,
            None => self.entries.push(entry),
        }
        TimerKey { index, generation }
    }

    /// A slab slot to place a timer in, with its next generation: the
    /// first on the free list, or else a new one at the end.
    #[inline]
    fn free_slot(&mut self) -> (u32, u32) {
        while self.free_head != NIL {
            let index = self.free_head;
            let Entry::Free {
                generation,
                next_free,
            } = self.entries[index as usize]
            else {
                unreachable!("free list of the timer slab reaches armed slot {index}")
            };
            self.free_head = next_free;
            if generation < u32::MAX {
                return (index, generation);
            }
            // Retired: unlinked, never reused.
        }
        let index = u32::try_from(self.entries.len())
            .ok()
            .filter(|&index| index != NIL)
            .expect("timer wheel is full: u32::MAX slab slots in use");
        (index, 0)
    }

    /// Frees the slab slot of the armed timer of `key` and returns its
    /// value; the key stays in its list, now stale.
    #[inline]
    fn release(&mut self, key: TimerKey) -> T {
        // Keys never carry `u32::MAX` (`free_slot` retires such slots), so the
        // next generation exists.
        let free = Entry::Free {
            generation: key.generation + 1,
            next_free: self.free_head,
        };
        self.free_head = key.index;
        match mem::replace(&mut self.entries[key.index as usize], free) {
            Entry::Armed { value, .. } => value,
            Entry::Free { .. } => unreachable!("timer slab slot {key:?} released while free"),
        }
    }
}

/// The level and slot a timer due at `deadline` is filed under while the
/// wheel stands at `now` (`deadline >= now`).
///
/// The level is the one holding the most significant bit in which the two
/// ticks differ: above it they agree, so the timer is due inside the
/// current span of the next level up. Setting bit 0 only spares the
/// `deadline == now` case a zero count; it cannot change the level.
#[inline]
fn position(now: u64, deadline: u64) -> (usize, usize) {
    debug_assert!(
        deadline >= now,
        "timer due at {deadline} filed when the wheel stands at {now}"
    );
    let top_bit = u64::BITS - 1 - ((now ^ deadline) | 1).leading_zeros();
    let level = top_bit / SLOT_BITS;
    let slot = (deadline >> (level * SLOT_BITS)) as usize & (SLOTS - 1);
    (level as usize, slot)
}

/// The first tick of `slot` on `level` within the current span of the
/// level above, when the wheel stands at `now`.
fn slot_start(now: u64, level: usize, slot: usize) -> u64 {
    let shift = level as u32 * SLOT_BITS;
    let span_bits = shift + SLOT_BITS;
    let base = if span_bits >= u64::BITS {
        0
    } else {
        (now >> span_bits) << span_bits
    };
    base | ((slot as u64) << shift)
}

impl<T> Default for TimerWheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for TimerWheel<T> {
    /// A summary: the tick, the counts and, per level, the occupancy bits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerWheel")
            .field("now", &self.now)
            .field("len", &self.len)
            .field("overdue", &self.live[OVERDUE])
            .field("stale", &self.filed.saturating_sub(self.len))
            .field("pending", &self.pending_len)
            .field("slab", &self.entries.len())
            .field("occupied", &Occupancy(&self.occupied))
            .finish()
    }
}

/// Prints occupancy words in hexadecimal.
struct Occupancy<'a>(&'a [u64; LEVELS]);

impl fmt::Debug for Occupancy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (level, bits) in self.0.iter().enumerate() {
            if level > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{bits:#x}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A xorshift64 generator: deterministic, and no dependency.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, bound: u64) -> u64 {
            self.next() % bound
        }
    }

    impl<T> TimerWheel<T> {
        /// Checks every internal invariant by walking the whole wheel.
        fn check(&self) {
            let is_armed = |key: TimerKey| {
                matches!(
                    self.entries[key.index as usize],
                    Entry::Armed { generation, .. } if generation == key.generation
                )
            };
            // How many keys of armed timers each slab slot has in the lists.
            let mut filed = vec![0u32; self.entries.len()];
            let mut records = 0;
            for (list, keys) in self.lists.iter().enumerate() {
                let place = (list != OVERDUE).then_some((list / SLOTS, list % SLOTS));
                let mut live = 0;
                for &key in keys.iter().filter(|&&key| is_armed(key)) {
                    let Entry::Armed {
                        list: filed_in,
                        deadline,
                        ..
                    } = self.entries[key.index as usize]
                    else {
                        unreachable!()
                    };
                    assert_eq!(usize::from(filed_in), list, "{key:?}: {self:?}");
                    match place {
                        Some(place) => {
                            assert!(deadline > self.now, "{deadline}: {self:?}");
                            assert_eq!(position(self.now, deadline), place, "{self:?}");
                        }
                        None => {
                            assert!(deadline <= self.now, "{self:?}");
                            assert!(deadline >= self.overdue_min, "{self:?}");
                        }
                    }
                    filed[key.index as usize] += 1;
                    live += 1;
                }
                assert_eq!(self.armed_in(list), live, "list {list}: {self:?}");
                if let Some((level, slot)) = place {
                    let bit = self.occupied[level] >> slot & 1 == 1;
                    assert_eq!(bit, !keys.is_empty(), "list {list}: {self:?}");
                }
                if self.pending_len == 0 {
                    assert_eq!(keys.is_empty(), live == 0, "list {list}: {self:?}");
                }
                records += keys.len();
            }
            assert_eq!(records, self.filed, "{self:?}");
            assert!(self.pending_len < PENDING, "{self:?}");
            let mut armed = 0;
            for (index, entry) in self.entries.iter().enumerate() {
                if matches!(entry, Entry::Armed { .. }) {
                    assert_eq!(filed[index], 1, "slot {index} filed badly: {self:?}");
                    armed += 1;
                }
            }
            assert_eq!(armed, self.len, "{self:?}");
            // Every other slot is on the free list once, or retired.
            let mut on_free_list = vec![false; self.entries.len()];
            let mut at = self.free_head;
            while at != NIL {
                let Entry::Free { next_free, .. } = self.entries[at as usize] else {
                    panic!("armed slot {at} on the free list: {self:?}")
                };
                assert!(!on_free_list[at as usize], "free list loops: {self:?}");
                on_free_list[at as usize] = true;
                at = next_free;
            }
            for (index, entry) in self.entries.iter().enumerate() {
                if let Entry::Free { generation, .. } = *entry {
                    assert!(
                        on_free_list[index] || generation == u32::MAX,
                        "slot {index} lost: {self:?}"
                    );
                }
            }
        }
    }

    fn values<T: Copy>(fired: &[(TimerKey, T)]) -> Vec<T> {
        fired.iter().map(|&(_, value)| value).collect()
    }

    /// Advances to `now` and returns the values fired.
    fn fire<T: Copy>(wheel: &mut TimerWheel<T>, now: u64) -> Vec<T> {
        let mut fired = Vec::new();
        wheel.advance(now, &mut fired);
        wheel.check();
        values(&fired)
    }

    #[test]
    fn levels_cover_every_deadline() {
        assert!(LEVELS as u32 * SLOT_BITS >= u64::BITS);
        assert_eq!(position(0, 0), (0, 0));
        assert_eq!(position(0, 63), (0, 63));
        assert_eq!(position(0, 64), (1, 1));
        assert_eq!(position(63, 64), (1, 1));
        assert_eq!(position(64, 127), (0, 63));
        assert_eq!(position(0, u64::MAX), (10, 15));
        assert_eq!(position(u64::MAX - 1, u64::MAX), (0, 63));
        assert_eq!(slot_start(0, 10, 15), 15 << 60);
        assert_eq!(slot_start(u64::MAX, 0, 63), u64::MAX);
        assert_eq!(slot_start(4_100, 1, 3), 4_096 + 3 * 64);
    }

    #[test]
    fn fires_in_deadline_order_across_levels() {
        let deadlines = [
            1u64 << 50,
            7,
            300_000,
            64,
            u64::MAX,
            4_095,
            63,
            1 << 30,
            20_000_000,
            4_096,
            (1 << 63) + 5,
            1,
        ];
        let mut wheel = TimerWheel::new();
        for &deadline in &deadlines {
            wheel.insert(deadline, deadline);
        }
        wheel.check();
        let mut sorted = deadlines.to_vec();
        sorted.sort_unstable();
        assert_eq!(fire(&mut wheel, u64::MAX), sorted);
        assert!(wheel.is_empty());
        assert_eq!(wheel.now(), u64::MAX);
    }

    #[test]
    fn jumps_fire_only_what_is_due() {
        let mut wheel = TimerWheel::new();
        for deadline in [10, 5_000, 5_001, 1 << 40, (1 << 40) + 1] {
            wheel.insert(deadline, deadline);
        }
        assert_eq!(fire(&mut wheel, 9), Vec::<u64>::new());
        assert_eq!(fire(&mut wheel, 5_000), [10, 5_000]);
        assert_eq!(fire(&mut wheel, 1 << 40), [5_001, 1 << 40]);
        assert_eq!(wheel.len(), 1);
        assert_eq!(wheel.next_deadline(), Some((1 << 40) + 1));
        assert_eq!(fire(&mut wheel, u64::MAX - 3), [(1 << 40) + 1]);
    }

    #[test]
    fn ties_fire_in_insertion_order() {
        let deadline = 1_000_000;
        let mut wheel = TimerWheel::new();
        // Filed on different levels, as the wheel gets closer.
        wheel.insert(deadline, 0);
        wheel.insert(deadline + 1, 100);
        wheel.insert(deadline, 1);
        assert!(fire(&mut wheel, 900_000).is_empty());
        wheel.insert(deadline, 2);
        assert!(fire(&mut wheel, 999_990).is_empty());
        wheel.insert(deadline, 3);
        wheel.insert(deadline + 1, 101);
        wheel.insert(deadline, 4);
        assert_eq!(fire(&mut wheel, u64::MAX), [0, 1, 2, 3, 4, 100, 101]);
    }

    #[test]
    fn deadlines_in_the_past_fire_first_in_deadline_order() {
        let mut wheel = TimerWheel::new();
        wheel.insert(150, 150);
        assert_eq!(fire(&mut wheel, 100), Vec::<u64>::new());
        wheel.insert(100, 100);
        wheel.insert(30, 30);
        wheel.insert(50, 50);
        wheel.insert(30, 31);
        wheel.insert(0, 0);
        assert_eq!(wheel.next_deadline(), Some(0));
        // Advancing to the same tick, or back in time, fires them.
        assert_eq!(fire(&mut wheel, 20), [0, 30, 31, 50, 100]);
        assert_eq!(wheel.now(), 100);
        // The start of the level-1 slot of tick 150.
        assert_eq!(wheel.next_deadline(), Some(128));
        wheel.insert(100, 1);
        assert_eq!(fire(&mut wheel, 200), [1, 150]);
    }

    #[test]
    fn deadline_u64_max() {
        let mut wheel = TimerWheel::new();
        let key = wheel.insert(u64::MAX, "end");
        assert_eq!(wheel.deadline(key), Some(u64::MAX));
        assert_eq!(wheel.next_deadline(), Some(15 << 60));
        assert!(fire(&mut wheel, u64::MAX - 1).is_empty());
        assert_eq!(wheel.next_deadline(), Some(u64::MAX));
        assert_eq!(fire(&mut wheel, u64::MAX), ["end"]);
        // At the end of time, anything inserted is overdue.
        wheel.insert(u64::MAX, "again");
        wheel.insert(3, "late");
        assert_eq!(fire(&mut wheel, u64::MAX), ["late", "again"]);
        assert!(fire(&mut wheel, u64::MAX).is_empty());
    }

    #[test]
    fn cancel_before_and_after_fire() {
        let mut wheel = TimerWheel::new();
        let a = wheel.insert(10, 'a');
        let b = wheel.insert(10, 'b');
        let c = wheel.insert(1 << 20, 'c');
        assert_eq!(wheel.cancel(a), Some('a'));
        assert_eq!(wheel.cancel(a), None);
        assert_eq!(wheel.cancel(c), Some('c'));
        wheel.check();
        assert_eq!(wheel.next_deadline(), Some(10));
        assert_eq!(fire(&mut wheel, 1 << 21), ['b']);
        assert_eq!(wheel.cancel(b), None);
        assert_eq!(wheel.get(b), None);
        assert_eq!(wheel.deadline(b), None);
        assert_eq!(wheel.next_deadline(), None);
        assert!(wheel.is_empty());
    }

    #[test]
    fn cancelling_the_last_timer_of_a_slot_clears_it() {
        let mut wheel = TimerWheel::new();
        let keys: Vec<_> = (0..5).map(|i| wheel.insert(1 << 30, i)).collect();
        let near = wheel.insert(1 << 29, 9);
        assert_eq!(wheel.next_deadline(), Some(1 << 29));
        wheel.cancel(near);
        // Pending or not, a slot of cancelled timers is never announced.
        assert_eq!(wheel.next_deadline(), Some(1 << 30));
        wheel.check();
        for &key in &keys {
            wheel.cancel(key);
        }
        assert_eq!(wheel.next_deadline(), None);
        wheel.check();
        fire(&mut wheel, 0);
        assert_eq!(wheel.filed, 0);
        assert_eq!(wheel.occupied, [0; LEVELS]);
    }

    #[test]
    fn next_deadline_skips_slots_emptied_by_pending_cancels() {
        let mut wheel = TimerWheel::new();
        let mut keys = Vec::new();
        for deadline in 1..=3 * PENDING as u64 {
            keys.push(wheel.insert(deadline, deadline));
        }
        wheel.insert(1_000, 1_000);
        for (i, &key) in keys.iter().enumerate() {
            assert_eq!(wheel.cancel(key), Some(i as u64 + 1));
            // The first timer left, or the start of its level-1 slot.
            let first_left = if i + 1 < keys.len() {
                i as u64 + 2
            } else {
                1_000
            };
            let announced = if first_left < 64 {
                first_left
            } else {
                first_left & !63
            };
            assert_eq!(wheel.next_deadline(), Some(announced), "after {i} cancels");
            if i % 7 == 0 {
                wheel.check();
            }
        }
        assert_eq!(fire(&mut wheel, u64::MAX), [1_000]);
    }

    #[test]
    fn stale_keys_after_slot_reuse() {
        let mut wheel = TimerWheel::new();
        let old = wheel.insert(5, "old");
        assert_eq!(fire(&mut wheel, 5), ["old"]);
        let new = wheel.insert(10, "new");
        assert_eq!(old.index, new.index, "the slab slot is reused");
        assert_ne!(old, new);
        assert_eq!(wheel.get(old), None);
        assert_eq!(wheel.deadline(old), None);
        assert_eq!(wheel.cancel(old), None);
        assert_eq!(wheel.get(new), Some(&"new"));

        // The cancelled timer's slab slot is reused at once, while its key
        // is still in the list of tick 20: the old key must not reach the
        // new timer, which must fire once, at its own time.
        let gone = wheel.insert(20, "gone");
        wheel.insert(20, "kept");
        wheel.cancel(gone);
        let reuse = wheel.insert(30, "reuse");
        assert_eq!(gone.index, reuse.index);
        assert_eq!(wheel.get(gone), None);
        assert_eq!(fire(&mut wheel, 25), ["new", "kept"]);
        assert_eq!(fire(&mut wheel, 30), ["reuse"]);
        assert_eq!(wheel.cancel(gone), None);
        assert_eq!(wheel.cancel(reuse), None);
    }

    #[test]
    fn exhausted_generation_retires_the_slot() {
        let mut wheel = TimerWheel::new();
        let first = wheel.insert(5, 0);
        assert_eq!(fire(&mut wheel, 5), [0]);
        // Pretend the slot has been reused 2^32 - 2 times.
        assert_eq!(wheel.free_head, first.index);
        wheel.entries[first.index as usize] = Entry::Free {
            generation: u32::MAX - 1,
            next_free: NIL,
        };
        let last = wheel.insert(6, 1);
        assert_eq!((last.index, last.generation), (first.index, u32::MAX - 1));
        assert_eq!(wheel.cancel(last), Some(1));
        wheel.check();
        let next = wheel.insert(7, 2);
        assert_ne!(next.index, last.index, "a retired slot is never reused");
        assert_eq!(wheel.get(last), None);
        assert_eq!(wheel.cancel(last), None);
        assert_eq!(fire(&mut wheel, 7), [2]);
        let again = wheel.insert(8, 3);
        assert_ne!(again.index, last.index);
        assert_eq!(fire(&mut wheel, 8), [3]);
    }

    #[test]
    fn len_accounting() {
        let mut wheel = TimerWheel::with_capacity(8);
        let keys: Vec<_> = (0..100).map(|i| wheel.insert(i * 1_000, i)).collect();
        assert_eq!(wheel.len(), 100);
        for key in keys.iter().step_by(3) {
            assert!(wheel.cancel(*key).is_some());
        }
        assert_eq!(wheel.len(), 66);
        wheel.cancel(keys[0]);
        assert_eq!(wheel.len(), 66);
        let fired = fire(&mut wheel, 50_000);
        assert_eq!(fired.len(), 34);
        assert_eq!(wheel.len(), 32);
        fire(&mut wheel, u64::MAX);
        assert!(wheel.is_empty());
    }

    #[test]
    fn stepping_by_next_deadline_reaches_each_timer_in_few_steps() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut wheel = TimerWheel::new();
        for _ in 0..200 {
            let deadline = rng.next() >> rng.below(64);
            wheel.insert(deadline, deadline);
        }
        let mut fired = Vec::new();
        let mut steps = 0;
        while let Some(tick) = wheel.next_deadline() {
            let before = wheel.len();
            wheel.advance(tick, &mut fired);
            steps += 1;
            if wheel.len() < before {
                steps = 0;
            }
            assert!(
                steps <= LEVELS,
                "no timer fired in {steps} steps: {wheel:?}"
            );
        }
        let values = values(&fired);
        assert!(values.is_sorted());
        assert_eq!(values.len(), 200);
    }

    #[test]
    fn sweep_bounds_stale_keys() {
        let mut wheel = TimerWheel::new();
        let mut rng = XorShift(7);
        let mut key = wheel.insert(30_000_000, 0);
        let mut now = 0;
        // A connection's idle timeout, re-armed on every packet.
        for packet in 1..200_000 {
            now += rng.below(100);
            if packet % 1000 == 0 {
                fire(&mut wheel, now);
            }
            wheel.cancel(key);
            key = wheel.insert(now + 30_000_000, packet);
            // The lists never hold more than three keys per armed timer at
            // the peak (one here), plus the slack.
            assert!(wheel.filed <= 3 + SWEEP_SLACK + 1, "{wheel:?}");
            assert!(wheel.entries.len() <= 2, "{wheel:?}");
        }
        wheel.check();
        assert_eq!(wheel.len(), 1);
    }

    #[test]
    fn entries_stay_small() {
        // The list index rides in the padding after the tag.
        if cfg!(target_pointer_width = "64") {
            assert_eq!(mem::size_of::<Entry<u64>>(), 24);
        }
    }

    #[test]
    fn debug_is_a_summary() {
        let mut wheel = TimerWheel::new();
        wheel.insert(70, vec![1u8]);
        let text = format!("{wheel:?}");
        assert!(text.contains("len: 1"), "{text}");
        assert!(text.contains("0x2"), "{text}");
    }

    /// Runs `ops` random operations against the wheel and against a model,
    /// a map ordered by (deadline, insertion number): 45% inserts, then
    /// `cancels`% cancels, 5% cancels of stale keys, and advances.
    fn compare_with_model(seed: u64, ops: usize, check_every: usize, cancels: u64) {
        let mut rng = XorShift(seed);
        let mut wheel = TimerWheel::new();
        let mut model: BTreeMap<(u64, u64), (TimerKey, u64)> = BTreeMap::new();
        let mut by_key: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        let mut dead: Vec<TimerKey> = Vec::new();
        let mut keys: Vec<TimerKey> = Vec::new();
        let mut seq = 0u64;
        let mut peak = 0;
        let mut fired = Vec::new();
        let key_id = |key: TimerKey| (u64::from(key.index) << 32) | u64::from(key.generation);
        for op in 0..ops {
            let now = wheel.now();
            let roll = rng.below(100);
            let kind = match roll {
                0..45 => 0,
                _ if roll < 45 + cancels => 1,
                _ if roll < 50 + cancels => 2,
                _ => 3,
            };
            match kind {
                0 => {
                    let deadline = match rng.below(10) {
                        0 => now.saturating_sub(rng.below(1_000)),
                        1..4 => now.saturating_add(rng.below(64)),
                        4..7 => now.saturating_add(rng.below(100_000)),
                        7..9 => now.saturating_add(rng.next() >> rng.below(64)),
                        _ => u64::MAX - rng.below(3),
                    };
                    seq += 1;
                    let key = wheel.insert(deadline, seq);
                    assert!(by_key.insert(key_id(key), (deadline, seq)).is_none());
                    model.insert((deadline, seq), (key, seq));
                    keys.push(key);
                }
                1 if !keys.is_empty() => {
                    let key = keys.swap_remove(rng.below(keys.len() as u64) as usize);
                    let (deadline, value) = by_key.remove(&key_id(key)).unwrap();
                    assert_eq!(wheel.deadline(key), Some(deadline));
                    assert_eq!(wheel.get(key), Some(&value));
                    assert_eq!(wheel.cancel(key), Some(value));
                    model.remove(&(deadline, value));
                    dead.push(key);
                }
                2 if !dead.is_empty() => {
                    let key = dead[rng.below(dead.len() as u64) as usize];
                    assert_eq!(wheel.cancel(key), None);
                    assert_eq!(wheel.get(key), None);
                    assert_eq!(wheel.deadline(key), None);
                }
                _ => {
                    let to = match rng.below(10) {
                        0 => now,
                        1..5 => now.saturating_add(rng.below(64)),
                        5..8 => now.saturating_add(rng.below(10_000)),
                        8 => now.saturating_add(rng.next() >> rng.below(64)),
                        _ => match wheel.next_deadline() {
                            Some(tick) => tick,
                            None => now,
                        },
                    };
                    fired.clear();
                    wheel.advance(to, &mut fired);
                    // The wheel never goes back: all that is overdue fires.
                    let due = match to.max(now).checked_add(1) {
                        Some(end) => {
                            let rest = model.split_off(&(end, 0));
                            mem::replace(&mut model, rest)
                        }
                        None => mem::take(&mut model),
                    };
                    let expected: Vec<_> = due.into_values().collect();
                    if fired != expected {
                        let show = |v: &[(TimerKey, u64)]| {
                            v.iter()
                                .map(|&(k, s)| (s, by_key[&key_id(k)].0))
                                .collect::<Vec<_>>()
                        };
                        panic!(
                            "op {op}: advance from {now} to {to}: fired {:?}, expected {:?}",
                            show(&fired),
                            show(&expected)
                        );
                    }
                    for &(key, _) in &fired {
                        by_key.remove(&key_id(key));
                        dead.push(key);
                    }
                    keys.retain(|key| by_key.contains_key(&key_id(*key)));
                }
            }
            assert_eq!(wheel.len(), model.len());
            peak = peak.max(wheel.len());
            assert!(wheel.filed <= 3 * peak + SWEEP_SLACK + 1, "{wheel:?}");
            assert!(wheel.entries.len() <= peak, "{wheel:?}");
            match (wheel.next_deadline(), model.keys().next()) {
                (None, None) => {}
                (Some(next), Some(&(first, _))) => {
                    assert!(
                        next <= first,
                        "op {op}: next {next} after {first}: {wheel:?}"
                    );
                }
                (next, first) => panic!("op {op}: next deadline {next:?}, first {first:?}"),
            }
            if dead.len() > 10_000 {
                dead.drain(..5_000);
            }
            if op % check_every == 0 {
                wheel.check();
            }
        }
        wheel.check();
    }

    #[test]
    fn random_operations_match_the_model() {
        compare_with_model(0x2545_f491_4f6c_dd1d, 100_000, 1_000, 20);
    }

    #[test]
    fn random_churn_matches_the_model() {
        // Mostly inserts and cancels, rare advances: cancels pile up
        // pending, and inserts sweep.
        compare_with_model(0x5851_f42d_4c95_7f2d, 100_000, 997, 45);
        for seed in 1..=10 {
            compare_with_model(seed * 0x2545_f491, 1_000, 1, 45);
        }
    }

    #[test]
    fn random_operations_match_the_model_closely() {
        for seed in 1..=20 {
            compare_with_model(seed * 0x9e37_79b9, 1_000, 1, 20);
        }
    }
}
