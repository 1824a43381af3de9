//! What an idle gobj costs in memory beyond its own struct.
//!
//! A counting global allocator (a thin wrapper over `std::alloc::System`)
//! keeps the live bytes and the live allocations of the process. The bench
//! creates `n` gobjs of a small gclass in one gaplic and takes
//! `(live bytes after - live bytes before) / n - size_of::<Small>()`: the
//! gaplic's own cost per gobj (its registry slot, the boxed `Machine`
//! around the struct, the name, the unique-name index).
//!
//! Three ways of creating them:
//! - `unnamed`: `create_gobj` with an empty name (no name allocation);
//! - `named`: `create_gobj` with a name of typical length (`gobj000123`,
//!   10 bytes);
//! - `unique`: `create_unique_gobj` with such a name (the name is also a
//!   key of the gaplic's unique-name index).
//!
//! The registry is a slab `Vec` that grows by doubling, so the figure
//! depends on where `n` falls between two capacities. At `n = 2^17 =
//! 131_072` the slab is exactly full (capacity == len), which gives the
//! steady per-gobj cost; `n = 100_000` gives the amortized cost with the
//! spare capacity spread over the gobjs. The unique-name index has its own
//! growth (a hash table kept below 7/8 full), so its figure is amortized
//! at any `n`.
//!
//! Bytes are the sizes requested from the allocator. The allocator's own
//! bookkeeping comes on top: the `malloc footprint` lines estimate it for
//! glibc on 64-bit Linux (each chunk is the request plus 8 bytes, rounded
//! up to 16, at least 32; requests the allocator serves with `mmap` are
//! rounded to 4 KiB pages).
//!
//! There is no external baseline for memory: the figure is printed against
//! the targets (160 bytes for an unnamed or named gobj, 200 for a
//! unique-named one), and `size_of` of the user struct is printed beside it
//! for scale.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};

use gaplic::prelude::*;

/// The target: bytes per idle gobj beyond its user struct, without a
/// unique name.
const TARGET_BYTES: f64 = 160.0;

/// The target for a gobj registered under a unique name.
const TARGET_UNIQUE_BYTES: f64 = 200.0;

/// Gobjs at which the registry slab is exactly full.
const FULL: usize = 1 << 17;

/// A round count, where the slab has spare capacity.
const ROUND: usize = 100_000;

/// Requests of at least this many bytes are served by `mmap` in glibc
/// (its default `M_MMAP_THRESHOLD`).
const MMAP_THRESHOLD: usize = 128 * 1024;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static LIVE_ALLOCS: AtomicIsize = AtomicIsize::new(0);
static LIVE_FOOTPRINT: AtomicIsize = AtomicIsize::new(0);

/// glibc's estimated footprint for a request of `size` bytes.
fn footprint(size: usize) -> isize {
    let bytes = if size >= MMAP_THRESHOLD {
        (size + 16).div_ceil(4096) * 4096
    } else {
        ((size + 8).div_ceil(16) * 16).max(32)
    };
    bytes as isize
}

fn count_alloc(size: usize) {
    LIVE_BYTES.fetch_add(size as isize, Ordering::Relaxed);
    LIVE_ALLOCS.fetch_add(1, Ordering::Relaxed);
    LIVE_FOOTPRINT.fetch_add(footprint(size), Ordering::Relaxed);
}

fn count_dealloc(size: usize) {
    LIVE_BYTES.fetch_sub(size as isize, Ordering::Relaxed);
    LIVE_ALLOCS.fetch_sub(1, Ordering::Relaxed);
    LIVE_FOOTPRINT.fetch_sub(footprint(size), Ordering::Relaxed);
}

/// The system allocator, counting what is live.
struct Counting;

// SAFETY: every method forwards to `System` with the caller's own
// arguments, so `Counting` upholds exactly the contract `System` does; the
// counting around the calls only touches atomics and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller guarantees `layout` has a non-zero size, which
        // is all `System.alloc` requires.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count_alloc(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`: the caller's non-zero-size `layout` goes
        // to `System` unchanged.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count_alloc(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was returned by this allocator, that is by `System`
        // (every allocation above is `System`'s), with this same `layout`,
        // as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) };
        count_dealloc(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` is a live block of `System` with `layout`, and
        // `new_size` is non-zero and does not overflow when rounded to the
        // alignment, as the caller guarantees; `System.realloc` needs no
        // more.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count_dealloc(layout.size());
            count_alloc(new_size);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What is live now: bytes requested, allocations, estimated footprint.
#[derive(Clone, Copy, Debug)]
struct Live {
    bytes: isize,
    allocs: isize,
    footprint: isize,
}

fn live() -> Live {
    Live {
        bytes: LIVE_BYTES.load(Ordering::Relaxed),
        allocs: LIVE_ALLOCS.load(Ordering::Relaxed),
        footprint: LIVE_FOOTPRINT.load(Ordering::Relaxed),
    }
}

gobj! {
    /// A small gclass: a counter and a flag.
    struct Small {
        count: u64,
        limit: u32,
    }
    events {
        /// Count one.
        EV_TICK: input,
    }
    states { ST_IDLE }
    machine { ST_IDLE { EV_TICK => tick } }
}

impl Small {
    fn tick(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.count += 1;
        if self.count > u64::from(self.limit) {
            self.count = 0;
        }
        Ok(Value::Null)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Naming {
    Unnamed,
    Named,
    Unique,
}

impl Naming {
    fn label(self) -> &'static str {
        match self {
            Naming::Unnamed => "unnamed",
            Naming::Named => "named",
            Naming::Unique => "unique",
        }
    }
}

/// Per gobj, beyond `size_of::<Small>()`.
struct Cost {
    bytes: f64,
    allocs: f64,
    footprint: f64,
}

/// Creates `n` gobjs in a fresh gaplic; what each costs beyond its struct.
fn measure(n: usize, naming: Naming) -> Cost {
    let names: Vec<String> = match naming {
        Naming::Unnamed => Vec::new(),
        Naming::Named | Naming::Unique => (0..n).map(|i| format!("gobj{i:06}")).collect(),
    };
    let mut gaplic = Gaplic::new("memory").expect("a gaplic");
    let before = live();
    for i in 0..n {
        let name = names.get(i).map_or("", String::as_str);
        let created = match naming {
            Naming::Unique => gaplic.create_unique_gobj::<Small>(name, None, Kw::new()),
            Naming::Unnamed | Naming::Named => gaplic.create_gobj::<Small>(name, None, Kw::new()),
        };
        black_box(created.expect("a gobj"));
    }
    let after = live();
    assert_eq!(gaplic.len(), n, "every gobj lives");
    drop(gaplic);
    drop(names);

    let per = |a: isize, b: isize| (a - b) as f64 / n as f64;
    let user = size_of::<Small>() as f64;
    Cost {
        bytes: per(after.bytes, before.bytes) - user,
        allocs: per(after.allocs, before.allocs),
        footprint: per(after.footprint, before.footprint) - user,
    }
}

fn main() {
    let user = size_of::<Small>();
    let machine = size_of::<Machine<Small>>();

    // Once first, so lazy statics of the runtime are in place.
    let start = live();
    measure(16, Naming::Unique);
    let statics = live().bytes - start.bytes;

    let mut full = Vec::new();
    let mut residue = 0;
    for naming in [Naming::Unnamed, Naming::Named, Naming::Unique] {
        for n in [FULL, ROUND] {
            let before = live();
            let cost = measure(n, naming);
            // Everything `measure` made is dropped again: what is still
            // live would be a leak (printing comes after this).
            residue = residue.max(live().bytes - before.bytes);
            let label = naming.label();
            let slab = if n == FULL {
                "slab full, capacity == len"
            } else {
                "amortized, slab has spare capacity"
            };
            let target = match naming {
                Naming::Unique => TARGET_UNIQUE_BYTES,
                Naming::Unnamed | Naming::Named => TARGET_BYTES,
            };
            let verdict = if cost.bytes <= target {
                "met"
            } else {
                "missed"
            };
            println!(
                "result memory/{label}/{n} = {:.1} bytes/gobj beyond the user struct ({:.2} \
                 allocations/gobj; {slab}; target <= {target:.0}: {verdict}; baseline: \
                 size_of user struct = {user} bytes)",
                cost.bytes, cost.allocs
            );
            println!(
                "result memory/{label}/{n} malloc footprint (glibc estimate) = {:.1} bytes/gobj \
                 beyond the user struct",
                cost.footprint
            );
            if n == FULL {
                full.push((naming, cost.bytes));
            }
        }
    }

    // Where the bytes go, from the steady (slab full) figures.
    let figure = |naming: Naming| {
        full.iter()
            .find(|(n, _)| *n == naming)
            .map_or(f64::NAN, |(_, bytes)| *bytes)
    };
    let unnamed = figure(Naming::Unnamed);
    let boxed_overhead = (machine - user) as f64;
    println!(
        "result memory/breakdown: Box<Machine<Small>> {machine} bytes (user struct {user} + \
         {boxed_overhead:.0} for state, name and trace), registry slot {:.1}, name {:.1}, \
         unique-name index {:.1} (bytes/gobj at {FULL} gobjs)",
        unnamed - boxed_overhead,
        figure(Naming::Named) - unnamed,
        figure(Naming::Unique) - figure(Naming::Named)
    );

    println!(
        "result memory/leak check: at most {residue} bytes still live after a gaplic of up to \
         {FULL} gobjs was dropped ({statics} bytes of lazy statics after the first one)"
    );
}
