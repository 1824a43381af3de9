//! The hierarchical timing wheel and its keys.
//!
//! The layout is described in the [module documentation](crate::timer).

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

/// Stale records (of cancelled timers) that may linger in slot lists
/// before [`TimerWheel`] sweeps them, on top of twice the number of armed
/// timers. Small under test, so that the randomized tests sweep often.
const STALE_SLACK: usize = if cfg!(test) { 16 } else { 4096 };

/// Slot lists longer than this give their buffer back to the allocator
/// once the slot has been processed, so that a burst of timers does not pin
/// memory in hundreds of slots forever.
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
/// use gaplic_runtime::timer::{TimerKey, TimerWheel};
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

/// One slot of the slab.
enum Entry<T> {
    /// Holds an armed timer.
    Armed {
        generation: u32,
        deadline: u64,
        value: T,
    },
    /// Holds no timer; the next one placed here gets `generation`. A slot
    /// whose next generation would be `u32::MAX` is retired: keys of all
    /// its generations may still be around, so it is never reused.
    Vacant { generation: u32 },
}

/// What a slot list holds for one timer: its slab index and its deadline.
///
/// Carrying the deadline lets the wheel move a timer down a level without
/// reading its slab entry, and whether the timer is still armed is one bit
/// of [`TimerWheel::armed`], a bitmap small enough to stay in cache (128 KiB
/// for a million timers). On the bench (1 M timers spread over 10 s of
/// ticks, cancel half, fire the rest), reading the slab entry of every
/// timer at every level instead cost 160 to 290 ns per timer fired: the
/// slab (24 MiB there) does not fit in any cache, and each cascade missed
/// on it again.
///
/// For the bit to be exact, a slab index is never reused while a record
/// still names it: a cancelled timer's slot is freed only when its record
/// is dropped (see [`TimerWheel::lists`]).
#[derive(Clone, Copy)]
struct Record {
    deadline: u64,
    index: u32,
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
/// use gaplic_runtime::timer::TimerWheel;
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
    /// The slab every timer lives in; keys index it.
    entries: Vec<Entry<T>>,
    /// One bit per slab slot, set while it holds an armed timer.
    armed: Vec<u64>,
    /// Slab slots ready for reuse: vacant, and named by no record.
    free: Vec<u32>,
    /// Armed timers.
    len: usize,
    /// Per level, bit `s` is set when slot `s` holds an armed timer.
    occupied: [u64; LEVELS],
    /// The records of each slot, level-major, then at [`OVERDUE`] those of
    /// the timers inserted with a deadline already passed, which fire first
    /// on the next advance.
    ///
    /// Lists are `Vec`s of records in arrival order. Cancelling a timer
    /// leaves its record behind, stale, to be dropped when its list is next
    /// processed (lazy removal). The alternative, an intrusive
    /// doubly-linked list threaded through the slab by index, was measured
    /// against this on the `timers` bench (see the report at its top): it
    /// unlinks in O(1) too, but touches both neighbours, two more cache
    /// misses per cancel, and walking a list chases indices one dependent
    /// load at a time, whereas a `Vec` is read sequentially.
    lists: Box<[Vec<Record>]>,
    /// How many records of each list name an armed timer. When a cancel
    /// takes a list to zero, its records (all stale) are dropped at once,
    /// so the occupancy bits, and `next_deadline`, stay exact; and a sweep
    /// runs once stale records outnumber twice the armed timers, so lazy
    /// removal never holds more than that.
    live: Box<[u32]>,
    /// No overdue timer is due before this (`u64::MAX` when there is none).
    overdue_min: u64,
    /// Records in slot lists whose timer was cancelled.
    stale: usize,
}

impl<T> TimerWheel<T> {
    /// An empty wheel standing at tick 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic_runtime::timer::TimerWheel;
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
    /// use gaplic_runtime::timer::TimerWheel;
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
            armed: Vec::with_capacity(capacity.div_ceil(64)),
            free: Vec::new(),
            len: 0,
            occupied: [0; LEVELS],
            lists: (0..LISTS).map(|_| Vec::new()).collect(),
            live: vec![0; LISTS].into_boxed_slice(),
            overdue_min: u64::MAX,
            stale: 0,
        }
    }

    /// The tick the wheel has been advanced to; 0 for a new wheel.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic_runtime::timer::TimerWheel;
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
    /// use gaplic_runtime::timer::TimerWheel;
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
    /// use gaplic_runtime::timer::TimerWheel;
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
    /// When the slab has 2^32 slots in use, the most a key can address.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic_runtime::timer::TimerWheel;
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
        let key = self.alloc(deadline, value);
        self.len += 1;
        let record = Record {
            deadline,
            index: key.index,
        };
        if deadline <= self.now {
            self.overdue_min = self.overdue_min.min(deadline);
            self.lists[OVERDUE].push(record);
            self.live[OVERDUE] += 1;
        } else {
            self.file(record);
        }
        key
    }

    /// Disarms the timer of `key` and gives its value back; `None` when the
    /// key is stale (the timer already fired or was cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic_runtime::timer::TimerWheel;
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
        let entry = self.entries.get_mut(key.index as usize)?;
        let deadline = match *entry {
            Entry::Armed {
                generation,
                deadline,
                ..
            } if generation == key.generation => deadline,
            _ => return None,
        };
        // Keys never carry `u32::MAX`, so the next generation exists. The
        // record stays behind, so the slot is not freed yet.
        let vacant = Entry::Vacant {
            generation: key.generation + 1,
        };
        let Entry::Armed { value, .. } = mem::replace(entry, vacant) else {
            unreachable!("timer slab slot {} changed while cancelled", key.index)
        };
        self.set_armed(key.index, false);
        self.len -= 1;
        self.stale += 1;
        let list = if deadline <= self.now {
            OVERDUE
        } else {
            let (level, slot) = position(self.now, deadline);
            level * SLOTS + slot
        };
        debug_assert!(
            self.live[list] > 0,
            "cancelled timer {key:?} due at {deadline} missing from list {list}: {self:?}"
        );
        self.live[list] -= 1;
        if self.live[list] == 0 {
            self.drop_list(list);
        }
        if self.stale > 2 * self.len + STALE_SLACK {
            self.sweep();
        }
        Some(value)
    }

    /// The deadline of the timer of `key`; `None` when the key is stale.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic_runtime::timer::TimerWheel;
    ///
    /// let mut wheel = TimerWheel::new();
    /// let key = wheel.insert(1_500, ());
    /// assert_eq!(wheel.deadline(key), Some(1_500));
    /// wheel.advance(2_000, &mut Vec::new());
    /// assert_eq!(wheel.deadline(key), None);
    /// ```
    pub fn deadline(&self, key: TimerKey) -> Option<u64> {
        match self.entries.get(key.index as usize)? {
            Entry::Armed {
                generation,
                deadline,
                ..
            } if *generation == key.generation => Some(*deadline),
            _ => None,
        }
    }

    /// The value of the timer of `key`; `None` when the key is stale.
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic_runtime::timer::TimerWheel;
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

    /// A tick at which [`advance`](Self::advance) will make progress, or
    /// `None` when no timer is armed.
    ///
    /// It is never later than the earliest deadline, so an event loop may
    /// sleep until then. It may be earlier: a timer due far ahead sits in a
    /// coarse slot, and the tick returned is then the start of that slot,
    /// where advancing moves the timer to a finer level. Sleeping until
    /// each answer reaches the earliest deadline in at most one step per
    /// level. For a timer inserted already overdue it is that timer's
    /// deadline, which may lie before [`now`](Self::now).
    ///
    /// # Examples
    ///
    /// ```
    /// use gaplic_runtime::timer::TimerWheel;
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
        if self.live[OVERDUE] > 0 {
            return Some(self.overdue_min);
        }
        let (level, slot) = self.next_slot()?;
        Some(slot_start(self.now, level, slot))
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
    /// use gaplic_runtime::timer::TimerWheel;
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
            self.occupied[level] &= !(1 << slot);
            let records = self.take_list(level * SLOTS + slot);
            if level == 0 {
                self.fire_records(&records, Some(start), fired);
            } else {
                self.cascade(&records, level, start);
            }
            self.restore_list(level * SLOTS + slot, records);
        }
        self.now = target;
    }

    /// The earliest occupied slot, as (level, slot).
    ///
    /// Every timer on level `l` is due inside the current span of level
    /// `l + 1` (that is what [`position`] means), after the slot of level `l`
    /// the wheel stands in. So a lower level always expires first, and on a
    /// level no occupied slot lies behind the cursor: the lowest set bit is
    /// the next slot. No rotation is needed, and the assertion checks it.
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
        Some((level, slot))
    }

    /// Files the record of an armed timer, due at or after now, under its
    /// level and slot.
    #[inline]
    fn file(&mut self, record: Record) {
        let (level, slot) = position(self.now, record.deadline);
        self.lists[level * SLOTS + slot].push(record);
        self.live[level * SLOTS + slot] += 1;
        self.occupied[level] |= 1 << slot;
    }

    /// Takes the records of list `list` out, leaving it empty.
    fn take_list(&mut self, list: usize) -> Vec<Record> {
        self.live[list] = 0;
        mem::take(&mut self.lists[list])
    }

    /// Gives a processed list back, keeping its buffer if it is small.
    fn restore_list(&mut self, list: usize, mut records: Vec<Record>) {
        debug_assert!(
            self.lists[list].is_empty(),
            "list {list} refilled while it was out: {self:?}"
        );
        if records.capacity() <= KEEP_CAPACITY {
            records.clear();
            self.lists[list] = records;
        }
    }

    /// Whether slab slot `index` holds an armed timer.
    #[inline]
    fn is_armed(&self, index: u32) -> bool {
        self.armed[index as usize / 64] >> (index % 64) & 1 == 1
    }

    #[inline]
    fn set_armed(&mut self, index: u32, armed: bool) {
        let word = &mut self.armed[index as usize / 64];
        if armed {
            *word |= 1 << (index % 64);
        } else {
            *word &= !(1 << (index % 64));
        }
    }

    /// Fires the armed timers of `records`, in their order, and drops the
    /// stale ones. From a level-0 slot, all are due at tick `at`.
    fn fire_records(
        &mut self,
        records: &[Record],
        at: Option<u64>,
        fired: &mut Vec<(TimerKey, T)>,
    ) {
        for record in records {
            if self.is_armed(record.index) {
                debug_assert!(
                    at.is_none_or(|at| record.deadline == at),
                    "timer {} due at {} fires at tick {at:?}: {self:?}",
                    record.index,
                    record.deadline
                );
                let entry = &mut self.entries[record.index as usize];
                let Entry::Armed { generation, .. } = *entry else {
                    unreachable!("armed bit set on vacant timer slot {}", record.index)
                };
                let vacant = Entry::Vacant {
                    generation: generation + 1,
                };
                let Entry::Armed { value, .. } = mem::replace(entry, vacant) else {
                    unreachable!("timer slab slot {} changed while fired", record.index)
                };
                self.set_armed(record.index, false);
                self.len -= 1;
                fired.push((
                    TimerKey {
                        index: record.index,
                        generation,
                    },
                    value,
                ));
            } else {
                self.stale -= 1;
            }
            self.free.push(record.index);
        }
    }

    /// Moves the timers of the slot of `level` starting at tick `start`
    /// (where the wheel now stands) down to the levels they now belong on,
    /// and drops the stale records. Records keep their order, so ties keep
    /// firing in insertion order.
    fn cascade(&mut self, records: &[Record], level: usize, start: u64) {
        let width = 1u64 << (level as u32 * SLOT_BITS);
        for &record in records {
            if self.is_armed(record.index) {
                debug_assert!(
                    record.deadline >= start && record.deadline - start < width,
                    "timer {} due at {} filed in the slot of level {level} \
                     that covers {start}..{}: {self:?}",
                    record.index,
                    record.deadline,
                    start.saturating_add(width)
                );
                self.file(record);
            } else {
                self.stale -= 1;
                self.free.push(record.index);
            }
        }
    }

    /// Fires the timers inserted overdue, in deadline order.
    fn fire_overdue(&mut self, fired: &mut Vec<(TimerKey, T)>) {
        let mut records = self.take_list(OVERDUE);
        self.overdue_min = u64::MAX;
        // A stable sort: equal deadlines keep their insertion order.
        if !records.is_sorted_by_key(|record| record.deadline) {
            records.sort_by_key(|record| record.deadline);
        }
        self.fire_records(&records, None, fired);
        self.restore_list(OVERDUE, records);
    }

    /// Drops the records of list `list`, whose last armed timer was just
    /// cancelled, frees their slab slots, and clears its occupancy bit.
    #[cold]
    fn drop_list(&mut self, list: usize) {
        let records = &mut self.lists[list];
        self.stale -= records.len();
        self.free.extend(records.drain(..).map(|record| record.index));
        if list == OVERDUE {
            self.overdue_min = u64::MAX;
        } else {
            self.occupied[list / SLOTS] &= !(1 << (list % SLOTS));
        }
    }

    /// Drops every stale record from the slot lists and frees their slab
    /// slots. Runs when stale records exceed twice the armed timers (plus
    /// slack), so its cost, the records it visits, is less than 1.5 times
    /// the cancels that made them stale: O(1) amortized per cancel.
    #[cold]
    fn sweep(&mut self) {
        let armed = &self.armed;
        let free = &mut self.free;
        let mut keep = |record: &Record| {
            let index = record.index as usize;
            let keep = armed[index / 64] >> (index % 64) & 1 == 1;
            if !keep {
                free.push(record.index);
            }
            keep
        };
        for (list, records) in self.lists.iter_mut().enumerate() {
            if !records.is_empty() {
                records.retain(&mut keep);
                debug_assert_eq!(
                    records.len(),
                    self.live[list] as usize,
                    "sweep finds list {list} with a wrong live count"
                );
            }
        }
        self.stale = 0;
    }

    /// Places a timer in a free slab slot, or a new one, and arms it.
    #[inline]
    fn alloc(&mut self, deadline: u64, value: T) -> TimerKey {
        while let Some(index) = self.free.pop() {
            let entry = &mut self.entries[index as usize];
            let Entry::Vacant { generation } = *entry else {
                unreachable!("free list of the timer slab holds armed slot {index}")
            };
            if generation == u32::MAX {
                continue; // retired
            }
            *entry = Entry::Armed {
                generation,
                deadline,
                value,
            };
            self.set_armed(index, true);
            return TimerKey { index, generation };
        }
        self.alloc_new(deadline, value)
    }

    /// Places a timer in a new slab slot, at the end.
    fn alloc_new(&mut self, deadline: u64, value: T) -> TimerKey {
        let index = u32::try_from(self.entries.len())
            .expect("timer wheel is full: 2^32 slab slots in use");
        self.entries.push(Entry::Armed {
            generation: 0,
            deadline,
            value,
        });
        if index % 64 == 0 {
            self.armed.push(0);
        }
        self.set_armed(index, true);
        TimerKey {
            index,
            generation: 0,
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
            .field("stale", &self.stale)
            .field("free", &self.free.len())
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
            // How many records name each slab slot: at most one.
            let mut named = vec![0u8; self.entries.len()];
            let mut armed = 0;
            let mut records_seen = 0;
            for (list, records) in self.lists.iter().enumerate() {
                let place = (list != OVERDUE).then_some((list / SLOTS, list % SLOTS));
                let mut live = 0;
                for record in records {
                    named[record.index as usize] += 1;
                    let entry = &self.entries[record.index as usize];
                    let is_armed = matches!(entry, Entry::Armed { .. });
                    assert_eq!(self.is_armed(record.index), is_armed, "{self:?}");
                    if !is_armed {
                        continue;
                    }
                    let Entry::Armed { deadline, .. } = *entry else {
                        unreachable!()
                    };
                    assert_eq!(deadline, record.deadline, "{self:?}");
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
                    live += 1;
                }
                assert_eq!(self.live[list], live, "{place:?}: {self:?}");
                assert_eq!(records.is_empty(), live == 0, "{self:?}");
                if let Some((level, slot)) = place {
                    let bit = self.occupied[level] >> slot & 1 == 1;
                    assert_eq!(bit, live > 0, "level {level} slot {slot}: {self:?}");
                }
                armed += live as usize;
                records_seen += records.len();
            }
            assert_eq!(armed, self.len, "{self:?}");
            assert_eq!(records_seen - armed, self.stale, "{self:?}");
            for &index in &self.free {
                named[index as usize] += 1;
                assert!(!self.is_armed(index), "{self:?}");
            }
            for (index, entry) in self.entries.iter().enumerate() {
                let retired = matches!(
                    entry,
                    Entry::Vacant {
                        generation: u32::MAX
                    }
                );
                // Each slot is armed with its record, stale with its record,
                // free, or retired (and then maybe on the free list).
                assert!(
                    named[index] == 1 || (retired && named[index] == 0),
                    "slot {index} named {} times: {self:?}",
                    named[index]
                );
                assert_eq!(
                    self.is_armed(index as u32),
                    matches!(entry, Entry::Armed { .. }),
                    "{self:?}"
                );
            }
            assert_eq!(self.armed.len(), self.entries.len().div_ceil(64));
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
        assert!(wheel.next_deadline().unwrap() <= u64::MAX);
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
        for &key in &keys {
            wheel.cancel(key);
        }
        wheel.check();
        assert_eq!(wheel.stale, 0);
        assert_eq!(wheel.next_deadline(), None);
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

        // A cancelled timer's slot is reused once its record is dropped
        // (here, with the slot of tick 20, its only timer). The old key
        // must not reach the new timer.
        let gone = wheel.insert(20, "gone");
        wheel.cancel(gone);
        let reuse = wheel.insert(30, "reuse");
        assert_eq!(gone.index, reuse.index);
        assert_eq!(wheel.get(gone), None);
        assert_eq!(fire(&mut wheel, 25), ["new"]);
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
        wheel.entries[first.index as usize] = Entry::Vacant {
            generation: u32::MAX - 1,
        };
        let last = wheel.insert(6, 1);
        assert_eq!((last.index, last.generation), (first.index, u32::MAX - 1));
        assert_eq!(wheel.cancel(last), Some(1));
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
            assert!(wheel.stale <= 2 * wheel.len() + STALE_SLACK);
        }
        wheel.check();
        assert_eq!(wheel.len(), 1);
        assert!(wheel.entries.len() <= 3 + STALE_SLACK, "{wheel:?}");
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
    /// a map ordered by (deadline, insertion number).
    fn compare_with_model(seed: u64, ops: usize, check_every: usize) {
        let mut rng = XorShift(seed);
        let mut wheel = TimerWheel::new();
        let mut model: BTreeMap<(u64, u64), (TimerKey, u64)> = BTreeMap::new();
        let mut by_key: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        let mut dead: Vec<TimerKey> = Vec::new();
        let mut keys: Vec<TimerKey> = Vec::new();
        let mut seq = 0u64;
        let mut fired = Vec::new();
        let key_id = |key: TimerKey| (u64::from(key.index) << 32) | u64::from(key.generation);
        for op in 0..ops {
            let now = wheel.now();
            match rng.below(100) {
                0..45 => {
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
                45..65 if !keys.is_empty() => {
                    let key = keys.swap_remove(rng.below(keys.len() as u64) as usize);
                    let (deadline, value) = by_key.remove(&key_id(key)).unwrap();
                    assert_eq!(wheel.deadline(key), Some(deadline));
                    assert_eq!(wheel.get(key), Some(&value));
                    assert_eq!(wheel.cancel(key), Some(value));
                    model.remove(&(deadline, value));
                    dead.push(key);
                    assert!(wheel.stale <= 2 * wheel.len() + STALE_SLACK, "{wheel:?}");
                }
                65..70 if !dead.is_empty() => {
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
        compare_with_model(0x2545_f491_4f6c_dd1d, 100_000, 1_000);
    }

    #[test]
    fn random_operations_match_the_model_closely() {
        for seed in 1..=20 {
            compare_with_model(seed * 0x9e37_79b9, 2_000, 1);
        }
    }
}
