//! 1 M timers: set, cancel half, fire the rest.
//!
//! [`TimerWheel`] against a baseline that is hard to beat on its own
//! ground: a `BinaryHeap<Reverse<(deadline, seq)>>` whose values live in a
//! `Vec<Option<u64>>` indexed by `seq`. Cancelling takes the value out of
//! that vector (lazy cancellation: the heap entry stays and is skipped when
//! it surfaces), which is a single store. The wheel's cancel does more: it
//! checks the key's generation, puts the slab slot back on the free list
//! and accounts for the slot's list, where the baseline never reuses a
//! `seq` and its vector of values only grows.
//!
//! Both sides get the same fixed-seed xorshift deadlines, spread over
//! `0..SPREAD` ticks, insert them in the same order, cancel the same
//! randomly chosen half in the same random order, then fire the rest with
//! one jump to the end of the spread. Each side is checked to fire the same
//! values in the same order before anything is timed.
//!
//! After criterion's report on whole cycles, each phase is timed again,
//! best of `RATIO_RUNS` runs with the sides alternating, and printed as
//! `ratio timers/<phase> wheel/binary_heap = ...` in ns per operation: per
//! insert, per cancel, per timer fired.
//!
//! The design alternatives tried on this workload, and their numbers, are
//! described on the fields of `TimerWheel` in `src/timer/wheel.rs`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use gaplic_runtime::timer::{TimerKey, TimerWheel};

/// Timers per cycle.
const TIMERS: usize = 1_000_000;

/// Deadlines are drawn from `0..SPREAD` ticks (10 s at 1 tick per µs).
const SPREAD: u64 = 10_000_000;

/// Runs per side in the best-of measurement of the ratios.
const RATIO_RUNS: usize = 11;

/// A xorshift64 generator with a fixed seed: the same workload every run.
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

/// What both sides do: the deadlines, in insertion order, and which
/// insertions to cancel, in cancellation order.
struct Workload {
    deadlines: Vec<u64>,
    cancels: Vec<usize>,
}

impl Workload {
    fn new(timers: usize) -> Self {
        let mut rng = XorShift(0x5eed_7135_cafe_f00d);
        let deadlines = (0..timers).map(|_| rng.below(SPREAD)).collect();
        // A Fisher-Yates shuffle; its first half is the cancelled half.
        let mut cancels: Vec<usize> = (0..timers).collect();
        for i in (1..timers).rev() {
            cancels.swap(i, rng.below(i as u64 + 1) as usize);
        }
        cancels.truncate(timers / 2);
        Self { deadlines, cancels }
    }
}

/// The operations under test, implemented by both sides.
trait Timers {
    type Key: Copy;

    fn with_capacity(capacity: usize) -> Self;
    fn insert(&mut self, deadline: u64, value: u64) -> Self::Key;
    fn cancel(&mut self, key: Self::Key) -> Option<u64>;
    /// Fires everything due at or before `now`, in deadline order.
    fn advance(&mut self, now: u64, fired: &mut Vec<(Self::Key, u64)>);
}

impl Timers for TimerWheel<u64> {
    type Key = TimerKey;

    fn with_capacity(capacity: usize) -> Self {
        TimerWheel::with_capacity(capacity)
    }

    #[inline]
    fn insert(&mut self, deadline: u64, value: u64) -> TimerKey {
        TimerWheel::insert(self, deadline, value)
    }

    #[inline]
    fn cancel(&mut self, key: TimerKey) -> Option<u64> {
        TimerWheel::cancel(self, key)
    }

    fn advance(&mut self, now: u64, fired: &mut Vec<(TimerKey, u64)>) {
        TimerWheel::advance(self, now, fired);
    }
}

/// The baseline: a min-heap of (deadline, seq) with lazy cancellation.
struct HeapTimers {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    /// Values by seq; `None` once fired or cancelled.
    values: Vec<Option<u64>>,
}

impl Timers for HeapTimers {
    type Key = u64;

    fn with_capacity(capacity: usize) -> Self {
        Self {
            heap: BinaryHeap::with_capacity(capacity),
            values: Vec::with_capacity(capacity),
        }
    }

    #[inline]
    fn insert(&mut self, deadline: u64, value: u64) -> u64 {
        let seq = self.values.len() as u64;
        self.values.push(Some(value));
        self.heap.push(Reverse((deadline, seq)));
        seq
    }

    #[inline]
    fn cancel(&mut self, seq: u64) -> Option<u64> {
        self.values[seq as usize].take()
    }

    fn advance(&mut self, now: u64, fired: &mut Vec<(u64, u64)>) {
        while let Some(&Reverse((deadline, seq))) = self.heap.peek() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            if let Some(value) = self.values[seq as usize].take() {
                fired.push((seq, value));
            }
        }
    }
}

/// The time of each phase of one cycle.
#[derive(Clone, Copy)]
struct Phases {
    insert: Duration,
    cancel: Duration,
    fire: Duration,
}

/// One cycle on a fresh side: insert all, cancel half, fire the rest.
/// Returns the phase times and the values fired, in order.
fn cycle<S: Timers>(work: &Workload) -> (Phases, Vec<u64>) {
    let mut side = S::with_capacity(work.deadlines.len());
    let mut keys = Vec::with_capacity(work.deadlines.len());
    let mut fired = Vec::with_capacity(work.deadlines.len());

    let start = Instant::now();
    for (value, &deadline) in work.deadlines.iter().enumerate() {
        keys.push(side.insert(black_box(deadline), value as u64));
    }
    let insert = start.elapsed();

    let start = Instant::now();
    for &i in &work.cancels {
        black_box(side.cancel(keys[i]));
    }
    let cancel = start.elapsed();

    let start = Instant::now();
    side.advance(black_box(SPREAD), &mut fired);
    let fire = start.elapsed();

    let values = fired.iter().map(|&(_, value)| value).collect();
    drop(black_box(side));
    (
        Phases {
            insert,
            cancel,
            fire,
        },
        values,
    )
}

/// Checks that both sides fire the same values in the same order, the
/// live half sorted by (deadline, insertion).
fn verify(work: &Workload) -> usize {
    let (_, wheel) = cycle::<TimerWheel<u64>>(work);
    let (_, heap) = cycle::<HeapTimers>(work);
    assert_eq!(wheel.len(), work.deadlines.len() - work.cancels.len());
    assert!(wheel == heap, "the wheel and the heap fire differently");
    assert!(
        wheel
            .windows(2)
            .all(|pair| (work.deadlines[pair[0] as usize], pair[0])
                < (work.deadlines[pair[1] as usize], pair[1])),
        "timers fire out of order"
    );
    wheel.len()
}

fn bench_cycles(criterion: &mut Criterion, work: &Workload) {
    let mut group = criterion.benchmark_group("timers/cycle");
    // A cycle takes about a second: one per sample.
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function("wheel", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (p, _) = cycle::<TimerWheel<u64>>(work);
                    p.insert + p.cancel + p.fire
                })
                .sum()
        });
    });
    group.bench_function("binary_heap", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (p, _) = cycle::<HeapTimers>(work);
                    p.insert + p.cancel + p.fire
                })
                .sum()
        });
    });
    group.finish();
}

/// Best time of each phase over `RATIO_RUNS` cycles per side, the sides
/// taking turns to go first.
fn best_of(work: &Workload) -> (Phases, Phases) {
    let mut wheel: Option<Phases> = None;
    let mut heap: Option<Phases> = None;
    let keep_best = |best: &mut Option<Phases>, run: Phases| {
        *best = Some(match *best {
            None => run,
            Some(b) => Phases {
                insert: b.insert.min(run.insert),
                cancel: b.cancel.min(run.cancel),
                fire: b.fire.min(run.fire),
            },
        });
    };
    for run in 0..RATIO_RUNS {
        if run % 2 == 0 {
            keep_best(&mut wheel, cycle::<TimerWheel<u64>>(work).0);
            keep_best(&mut heap, cycle::<HeapTimers>(work).0);
        } else {
            keep_best(&mut heap, cycle::<HeapTimers>(work).0);
            keep_best(&mut wheel, cycle::<TimerWheel<u64>>(work).0);
        }
    }
    (wheel.expect("runs"), heap.expect("runs"))
}

/// Whether this is a benchmark run (`cargo bench`), not `cargo test
/// --benches` or `--list`, which only check that the benchmark runs.
fn benchmarking() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    has("--bench") && !has("--test") && !has("--list")
}

fn main() {
    let timers = if benchmarking() { TIMERS } else { TIMERS / 100 };
    let work = Workload::new(timers);
    let fired = verify(&work);
    println!(
        "timers: {timers} set over {SPREAD} ticks, {} cancelled, {fired} fired; both sides agree",
        work.cancels.len()
    );

    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8))
        .configure_from_args();
    bench_cycles(&mut criterion, &work);
    criterion.final_summary();

    if benchmarking() {
        let (wheel, heap) = best_of(&work);
        let columns = [
            ("insert", wheel.insert, heap.insert, work.deadlines.len()),
            ("cancel", wheel.cancel, heap.cancel, work.cancels.len()),
            ("fire", wheel.fire, heap.fire, fired),
        ];
        for (name, wheel, heap, ops) in columns {
            let per_op = |d: Duration| d.as_secs_f64() * 1e9 / ops as f64;
            let (wheel, heap) = (per_op(wheel), per_op(heap));
            println!(
                "ratio timers/{name} wheel/binary_heap = {:.2} (wheel {wheel:.1} ns/op, heap {heap:.1} ns/op)",
                wheel / heap
            );
        }
    }
}
