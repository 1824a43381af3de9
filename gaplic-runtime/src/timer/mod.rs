//! Timers of an event loop: a hierarchical timing wheel.
//!
//! A [`TimerWheel`] holds every timer of one single-threaded loop. Each
//! timer carries a value (what to do when it fires) and is named by a
//! [`TimerKey`], which the owner keeps to cancel it. Time is a `u64` count
//! of ticks that only moves when the loop calls
//! [`advance`](TimerWheel::advance); the loop's clock uses one tick per
//! microsecond of a monotonic clock, and asks
//! [`next_deadline`](TimerWheel::next_deadline) how long it may sleep.
//!
//! Inserting and cancelling are O(1). Advancing costs the timers it fires
//! or moves plus one step per level, not the ticks it skips, so a virtual
//! clock can jump hours ahead in one call. Timers fire in deadline order,
//! ties in insertion order.
//!
//! # Examples
//!
//! ```
//! use gaplic::timer::{TimerKey, TimerWheel};
//!
//! let mut wheel = TimerWheel::new();
//! let idle: TimerKey = wheel.insert(30_000_000, "idle timeout");
//! wheel.insert(250_000, "retransmit");
//!
//! // The peer answered: the idle timeout is re-armed further away.
//! wheel.cancel(idle);
//! wheel.insert(35_000_000, "idle timeout");
//!
//! let mut fired = Vec::new();
//! wheel.advance(40_000_000, &mut fired);
//! let values: Vec<_> = fired.iter().map(|&(_, v)| v).collect();
//! assert_eq!(values, ["retransmit", "idle timeout"]);
//! ```
//!
//! # Implementation
//!
//! The wheel has 11 levels of 64 slots. A slot of level `l` spans `64^l`
//! ticks, so a level spans `64^(l+1)` ticks and 11 levels cover 2^66, more
//! than any `u64` deadline: none is ever clamped. A timer is filed on the
//! level of the most significant 6-bit digit in which its deadline differs
//! from the current tick, in the slot named by that digit of its deadline.
//! With one tick per microsecond:
//!
//! | level | slot width (ticks) | slot width    | range covered (ticks) | range covered  |
//! |------:|-------------------:|--------------:|----------------------:|---------------:|
//! | 0     | 1                  | 1 µs          | 2^6                   | 64 µs          |
//! | 1     | 2^6                | 64 µs         | 2^12                  | 4.1 ms         |
//! | 2     | 2^12               | 4.1 ms        | 2^18                  | 262 ms         |
//! | 3     | 2^18               | 262 ms        | 2^24                  | 16.8 s         |
//! | 4     | 2^24               | 16.8 s        | 2^30                  | 17.9 min       |
//! | 5     | 2^30               | 17.9 min      | 2^36                  | 19.1 h         |
//! | 6     | 2^36               | 19.1 h        | 2^42                  | 50.9 days      |
//! | 7     | 2^42               | 50.9 days     | 2^48                  | 8.9 years      |
//! | 8     | 2^48               | 8.9 years     | 2^54                  | 571 years      |
//! | 9     | 2^54               | 571 years     | 2^60                  | 36,500 years   |
//! | 10    | 2^60               | 36,500 years  | 2^64 (16 slots used)  | 585,000 years  |
//!
//! A level's range is how far ahead of the current tick its timers are
//! due, at most: level `l` holds the timers due within the current
//! `64^(l+1)`-tick span but beyond the current `64^l`-tick slot.
//!
//! Each level keeps a 64-bit word with one bit per slot holding a timer,
//! so the next slot to visit is found with `trailing_zeros`, never by
//! scanning slots. When the wheel reaches the start of a slot above level
//! 0, the slot's timers move down to the levels they now belong on; a
//! level-0 slot holds timers of a single tick, which fire together. Each
//! timer thus moves at most once per level.
//!
//! Timers live in a slab, a `Vec` of entries with a free list; a key is an
//! index into it plus a generation that changes whenever the entry is
//! freed, which is what makes stale keys harmless. Slot lists are `Vec`s
//! of keys. Cancelling frees the timer's entry at once but leaves its key
//! in the list, to be skipped when the list comes up (its generation no
//! longer matches); per-list counts of armed timers, settled in batches
//! of cancels, drop a list once it holds only cancelled ones, and an
//! occasional sweep keeps the lists within three keys per armed timer. The comments in the source give the
//! measurements behind these choices.

mod wheel;

pub use wheel::{TimerKey, TimerWheel};
