//! Whether the runtime's bookkeeping grows with the population: the cost of
//! one operation at populations of 1 k, 10 k and 100 k, in a gaplic with a
//! virtual clock.
//!
//! Operations:
//! - `create_unique`: create a unique-named gobj;
//! - `destroy_unique_oldest_first` / `destroy_unique_newest_first`: destroy
//!   unique-named gobjs, the oldest (or newest) first;
//! - `subscribe`: subscribe a gobj to one publisher's output event;
//! - `broadcast`: one broadcast of that event to all its subscribers, per
//!   delivery;
//! - `destroy_children_oldest_first`: destroy children of one parent one by
//!   one, the oldest first;
//! - `destroy_subscribers`: destroy subscribers one by one, the oldest
//!   first (their subscriptions end with them);
//! - `unsubscribe`: end subscriptions one by one, the oldest first.
//!
//! Method: at population N, a round times a sample of K = min(N, 1000)
//! operations on a population of N (creations and subscriptions take it
//! from N - K to N, destructions and unsubscriptions from N to N - K),
//! then puts the population back as it was, untimed; the figure is the
//! best round's time per operation (up to 15, 7 and 3 rounds at 1 k, 10 k
//! and 100 k; none started once a figure has taken 2 s). A broadcast round
//! times one broadcast to N subscribers, per delivery. Timing a bounded
//! sample keeps the run short even where an operation costs time
//! proportional to N, and still shows the cost of one operation at N. The
//! four subscription operations share one publisher and its N subscribers
//! per population. After every timed part the population is checked (live
//! gobjs, unique names, children, subscriptions, notices delivered), so
//! the figures time work that was done.
//!
//! Output: one line per operation, `ratio scale/<op> 100k/1k = X (...;
//! target <= 2)`: the baseline is the same operation at 1 k, measured in
//! the same run. For orientation, the same measurement of a
//! `HashMap<String, u32>` insert and remove, whose ratio shows what the
//! memory hierarchy alone adds at 100 k.
//!
//! Run without `--bench` (`cargo test --benches`), it checks every
//! operation at 1 k only and prints no ratio.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use gaplic::prelude::*;

/// The populations measured.
const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// Operations timed per round, at most.
const SAMPLE: usize = 1_000;

/// The target: an operation at 100 k costs at most this many times what
/// it costs at 1 k.
const TARGET: f64 = 2.0;

/// Time spent on one figure (rounds and what puts the population back)
/// after which no further round starts.
const FIGURE_BUDGET: Duration = Duration::from_secs(2);

/// Rounds per figure: more where a round is short and noise weighs more.
fn rounds(n: usize) -> usize {
    if n <= 1_000 {
        15
    } else if n <= 10_000 {
        7
    } else {
        3
    }
}

/// Operations timed per round at population `n`.
fn sample(n: usize) -> usize {
    n.min(SAMPLE)
}

// ---------------------------------------------------------------------------
// The gclasses and the runtime calls, one helper each.

gobj! {
    /// Publishes `EV_NOTICE` to its subscribers.
    struct Publisher {}
    events {
        /// What the subscribers get.
        EV_NOTICE: output,
    }
    states { ST_IDLE }
    machine { ST_IDLE {} }
}

gobj! {
    /// Counts the notices it gets.
    struct Listener {
        notices: u64,
    }
    events {
        /// A publisher's notice.
        EV_NOTICE: input,
    }
    states { ST_IDLE }
    machine { ST_IDLE { EV_NOTICE => note } }
}

impl Listener {
    fn note(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.notices += 1;
        Ok(Value::Null)
    }
}

/// The output event the listeners subscribe to.
const NOTICE: &str = "EV_NOTICE";

fn new_gaplic() -> Gaplic {
    Gaplic::builder("scale")
        .virtual_clock()
        .build()
        .expect("a gaplic with a virtual clock")
}

fn create_unique(gaplic: &mut Gaplic, name: &str) -> GobjId {
    gaplic
        .create_unique_gobj::<Listener>(name, None, Kw::new())
        .expect("a gobj under a new unique name")
}

fn create_listener(gaplic: &mut Gaplic, parent: Option<GobjId>) -> GobjId {
    gaplic
        .create_gobj::<Listener>("listener", parent, Kw::new())
        .expect("a listener")
}

fn create_publisher(gaplic: &mut Gaplic) -> GobjId {
    gaplic
        .create_gobj::<Publisher>("publisher", None, Kw::new())
        .expect("a publisher")
}

fn destroy(gaplic: &mut Gaplic, id: GobjId) {
    gaplic.destroy_gobj(id).expect("a live gobj to destroy");
}

fn subscribe(gaplic: &mut Gaplic, publisher: GobjId, subscriber: GobjId) {
    gaplic
        .subscribe(publisher, Some(NOTICE), subscriber, SubscribeOptions::new())
        .expect("a subscription to an output event");
}

fn unsubscribe(gaplic: &mut Gaplic, publisher: GobjId, subscriber: GobjId) {
    if let Err(error) = gaplic.unsubscribe(publisher, Some(NOTICE), subscriber, false) {
        panic!("gobj {subscriber} was subscribed to {NOTICE}: {error}");
    }
}

fn broadcast(gaplic: &mut Gaplic, publisher: GobjId) {
    gaplic
        .broadcast(publisher, PublisherEvent::EV_NOTICE, Kw::new())
        .expect("a broadcast of an output event");
}

fn subscription_count(gaplic: &Gaplic, publisher: GobjId) -> usize {
    gaplic.subscription_count(publisher)
}

fn notices(gaplic: &Gaplic, listener: GobjId) -> u64 {
    gaplic
        .gobj::<Listener>(listener)
        .expect("a live listener")
        .notices
}

// ---------------------------------------------------------------------------
// Timing.

/// The best of `rounds` rounds; each returns its time per operation. No
/// round starts once the figure has taken `FIGURE_BUDGET`: where one round
/// takes that long, its operations are slow enough to time in one.
fn best_of(rounds: usize, mut round: impl FnMut() -> f64) -> f64 {
    let started = Instant::now();
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        best = best.min(round());
        if started.elapsed() > FIGURE_BUDGET {
            break;
        }
    }
    best
}

/// `elapsed` per operation, in ns.
fn ns_per(elapsed: Duration, ops: usize) -> f64 {
    elapsed.as_secs_f64() * 1e9 / ops as f64
}

// ---------------------------------------------------------------------------
// Unique-named gobjs.

/// A gaplic of unique-named gobjs, oldest first.
struct Uniques {
    gaplic: Gaplic,
    live: VecDeque<GobjId>,
    /// Names given so far; every gobj gets a name never used before.
    named: usize,
}

impl Uniques {
    fn new(n: usize) -> Self {
        let mut uniques = Self {
            gaplic: new_gaplic(),
            live: VecDeque::with_capacity(n),
            named: 0,
        };
        uniques.grow(n);
        uniques
    }

    /// Names for the next `k` gobjs, made before any timing.
    fn next_names(&mut self, k: usize) -> Vec<String> {
        let names = (self.named..self.named + k)
            .map(|i| format!("gobj{i:07}"))
            .collect();
        self.named += k;
        names
    }

    /// Creates `k` more, the newest.
    fn grow(&mut self, k: usize) {
        for name in self.next_names(k) {
            let id = create_unique(&mut self.gaplic, &name);
            self.live.push_back(id);
        }
    }

    /// The gaplic holds exactly the gobjs of `live`, each under its name,
    /// and none of `gone`.
    fn check(&self, gone: &[GobjId]) {
        assert_eq!(self.gaplic.len(), self.live.len(), "live gobjs");
        assert_eq!(
            self.gaplic.unique_names().len(),
            self.live.len(),
            "unique names"
        );
        assert!(
            gone.iter().all(|id| !self.gaplic.contains(*id)),
            "a destroyed gobj is still there"
        );
    }
}

fn create_unique_per_op(n: usize) -> f64 {
    let k = sample(n);
    let mut uniques = Uniques::new(n - k);
    best_of(rounds(n), || {
        let names = uniques.next_names(k);
        let start = Instant::now();
        for name in &names {
            let id = create_unique(&mut uniques.gaplic, name);
            uniques.live.push_back(id);
        }
        let elapsed = start.elapsed();
        uniques.check(&[]);
        assert!(
            names
                .iter()
                .all(|name| uniques.gaplic.find_unique_gobj(name).is_some()),
            "every new name is registered"
        );
        // Back to n - k, untimed.
        for _ in 0..k {
            let id = uniques.live.pop_back().expect("k gobjs were created");
            destroy(&mut uniques.gaplic, id);
        }
        ns_per(elapsed, k)
    })
}

/// Which end of the population a destruction takes.
#[derive(Clone, Copy, Debug)]
enum End {
    OldestFirst,
    NewestFirst,
}

fn destroy_unique_per_op(n: usize, end: End) -> f64 {
    let k = sample(n);
    let mut uniques = Uniques::new(n);
    best_of(rounds(n), || {
        let victims: Vec<GobjId> = (0..k)
            .map(|_| match end {
                End::OldestFirst => uniques.live.pop_front(),
                End::NewestFirst => uniques.live.pop_back(),
            })
            .map(|id| id.expect("k <= n"))
            .collect();
        let start = Instant::now();
        for &id in &victims {
            destroy(&mut uniques.gaplic, id);
        }
        let elapsed = start.elapsed();
        uniques.check(&victims);
        // Back to n, untimed: the new ones are the newest.
        uniques.grow(k);
        ns_per(elapsed, k)
    })
}

// ---------------------------------------------------------------------------
// Children of one parent.

fn destroy_children_per_op(n: usize) -> f64 {
    let k = sample(n);
    let mut gaplic = new_gaplic();
    let parent = create_listener(&mut gaplic, None);
    let mut children: VecDeque<GobjId> = (0..n)
        .map(|_| create_listener(&mut gaplic, Some(parent)))
        .collect();
    best_of(rounds(n), || {
        let victims: Vec<GobjId> = children.drain(..k).collect();
        let start = Instant::now();
        for &id in &victims {
            destroy(&mut gaplic, id);
        }
        let elapsed = start.elapsed();
        assert_eq!(
            gaplic.children_of(parent).count(),
            children.len(),
            "children left"
        );
        assert_eq!(gaplic.len(), children.len() + 1, "live gobjs");
        // Back to n, untimed.
        for _ in 0..k {
            children.push_back(create_listener(&mut gaplic, Some(parent)));
        }
        ns_per(elapsed, k)
    })
}

// ---------------------------------------------------------------------------
// Subscribers of one publisher.

/// A publisher and its subscribers, oldest subscription first. Built once
/// per population and shared by the subscription operations, each of which
/// leaves it as it found it: subscribing many gobjs to one publisher is
/// itself an operation measured here.
struct Audience {
    gaplic: Gaplic,
    publisher: GobjId,
    subscribed: VecDeque<GobjId>,
}

impl Audience {
    fn new(n: usize) -> Self {
        let mut gaplic = new_gaplic();
        let publisher = create_publisher(&mut gaplic);
        let mut audience = Self {
            gaplic,
            publisher,
            subscribed: VecDeque::with_capacity(n),
        };
        audience.grow(n);
        audience
    }

    /// `k` new listeners, subscribed: the newest subscriptions.
    fn grow(&mut self, k: usize) {
        for _ in 0..k {
            let listener = create_listener(&mut self.gaplic, None);
            subscribe(&mut self.gaplic, self.publisher, listener);
            self.subscribed.push_back(listener);
        }
    }

    /// The publisher has exactly the subscriptions of `subscribed`.
    fn check(&self) {
        assert_eq!(
            subscription_count(&self.gaplic, self.publisher),
            self.subscribed.len(),
            "subscriptions"
        );
    }
}

/// Per delivery. Every subscriber must have got exactly one notice per
/// round, so the audience must have had no broadcast before.
fn broadcast_per_delivery(audience: &mut Audience, n: usize) -> f64 {
    let mut broadcasts = 0;
    let best = best_of(rounds(n), || {
        broadcasts += 1;
        let start = Instant::now();
        broadcast(&mut audience.gaplic, audience.publisher);
        let elapsed = start.elapsed();
        assert_eq!(audience.gaplic.queued(), 0, "every delivery is a send");
        ns_per(elapsed, n)
    });
    let missed = audience
        .subscribed
        .iter()
        .filter(|&&l| notices(&audience.gaplic, l) != broadcasts)
        .count();
    assert_eq!(
        missed, 0,
        "subscribers without one notice per broadcast ({broadcasts} broadcasts)"
    );
    best
}

fn subscribe_per_op(audience: &mut Audience, n: usize) -> f64 {
    let k = sample(n);
    best_of(rounds(n), || {
        // Down to n - k, untimed: the newest subscriptions end.
        let newcomers: Vec<GobjId> = audience.subscribed.drain(n - k..).collect();
        for &listener in &newcomers {
            unsubscribe(&mut audience.gaplic, audience.publisher, listener);
        }
        audience.check();
        let start = Instant::now();
        for &listener in &newcomers {
            subscribe(&mut audience.gaplic, audience.publisher, listener);
        }
        let elapsed = start.elapsed();
        audience.subscribed.extend(newcomers);
        audience.check();
        ns_per(elapsed, k)
    })
}

fn unsubscribe_per_op(audience: &mut Audience, n: usize) -> f64 {
    let k = sample(n);
    best_of(rounds(n), || {
        let leaving: Vec<GobjId> = audience.subscribed.drain(..k).collect();
        let start = Instant::now();
        for &listener in &leaving {
            unsubscribe(&mut audience.gaplic, audience.publisher, listener);
        }
        let elapsed = start.elapsed();
        audience.check();
        // Back to n, untimed: they come back as the newest.
        for &listener in &leaving {
            subscribe(&mut audience.gaplic, audience.publisher, listener);
        }
        audience.subscribed.extend(leaving);
        audience.check();
        ns_per(elapsed, k)
    })
}

fn destroy_subscribers_per_op(audience: &mut Audience, n: usize) -> f64 {
    let k = sample(n);
    best_of(rounds(n), || {
        let victims: Vec<GobjId> = audience.subscribed.drain(..k).collect();
        let start = Instant::now();
        for &listener in &victims {
            destroy(&mut audience.gaplic, listener);
        }
        let elapsed = start.elapsed();
        audience.check();
        assert_eq!(
            audience.gaplic.len(),
            audience.subscribed.len() + 1,
            "live gobjs"
        );
        // Back to n, untimed.
        audience.grow(k);
        ns_per(elapsed, k)
    })
}

// ---------------------------------------------------------------------------
// Orientation: a HashMap keyed by names like the gobjs'.

/// A map of `n` names, oldest first.
struct Names {
    map: HashMap<String, u32>,
    order: VecDeque<String>,
    named: u32,
}

impl Names {
    fn new(n: usize) -> Self {
        let mut names = Self {
            map: HashMap::new(),
            order: VecDeque::with_capacity(n),
            named: 0,
        };
        for key in names.next_keys(n) {
            names.map.insert(key.clone(), 0);
            names.order.push_back(key);
        }
        names
    }

    fn next_keys(&mut self, k: usize) -> Vec<String> {
        let k = u32::try_from(k).expect("fewer than 2^32 keys");
        let keys = (self.named..self.named + k)
            .map(|i| format!("gobj{i:07}"))
            .collect();
        self.named += k;
        keys
    }
}

fn hashmap_insert_per_op(n: usize) -> f64 {
    let k = sample(n);
    let mut names = Names::new(n - k);
    best_of(rounds(n), || {
        let keys = names.next_keys(k);
        let kept = keys.clone();
        let start = Instant::now();
        for (value, key) in keys.into_iter().enumerate() {
            names.map.insert(key, value as u32);
        }
        let elapsed = start.elapsed();
        assert_eq!(names.map.len(), n, "keys");
        // Back to n - k, untimed.
        for key in &kept {
            names.map.remove(key);
        }
        ns_per(elapsed, k)
    })
}

fn hashmap_remove_per_op(n: usize) -> f64 {
    let k = sample(n);
    let mut names = Names::new(n);
    best_of(rounds(n), || {
        let leaving: Vec<String> = names.order.drain(..k).collect();
        let start = Instant::now();
        for key in &leaving {
            assert!(names.map.remove(key).is_some(), "key {key} was there");
        }
        let elapsed = start.elapsed();
        assert_eq!(names.map.len(), n - k, "keys");
        // Back to n, untimed.
        for key in leaving {
            names.map.insert(key.clone(), 0);
            names.order.push_back(key);
        }
        ns_per(elapsed, k)
    })
}

// ---------------------------------------------------------------------------
// The report.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    CreateUnique,
    DestroyUniqueOldestFirst,
    DestroyUniqueNewestFirst,
    Subscribe,
    Broadcast,
    DestroyChildrenOldestFirst,
    DestroySubscribers,
    Unsubscribe,
    HashMapInsert,
    HashMapRemove,
}

impl Op {
    const ALL: [Op; 10] = [
        Op::CreateUnique,
        Op::DestroyUniqueOldestFirst,
        Op::DestroyUniqueNewestFirst,
        Op::Subscribe,
        Op::Broadcast,
        Op::DestroyChildrenOldestFirst,
        Op::DestroySubscribers,
        Op::Unsubscribe,
        Op::HashMapInsert,
        Op::HashMapRemove,
    ];

    fn name(self) -> &'static str {
        match self {
            Op::CreateUnique => "create_unique",
            Op::DestroyUniqueOldestFirst => "destroy_unique_oldest_first",
            Op::DestroyUniqueNewestFirst => "destroy_unique_newest_first",
            Op::Subscribe => "subscribe",
            Op::Broadcast => "broadcast",
            Op::DestroyChildrenOldestFirst => "destroy_children_oldest_first",
            Op::DestroySubscribers => "destroy_subscribers",
            Op::Unsubscribe => "unsubscribe",
            Op::HashMapInsert => "hashmap_insert",
            Op::HashMapRemove => "hashmap_remove",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Op::Broadcast => "ns/delivery",
            _ => "ns/op",
        }
    }

    /// Measured for orientation only: no target.
    fn is_orientation(self) -> bool {
        matches!(self, Op::HashMapInsert | Op::HashMapRemove)
    }
}

/// Every operation's figure at population `n`, in the order of `Op::ALL`.
fn measure(n: usize) -> Vec<f64> {
    let mut figures = Vec::with_capacity(Op::ALL.len());
    // One audience serves the four subscription operations, built when the
    // first of them needs it. Only the broadcast sends notices, so its
    // check (one notice per subscriber per broadcast) holds in any order.
    let mut audience: Option<Audience> = None;
    for op in Op::ALL {
        let build = || Audience::new(n);
        let figure = match op {
            Op::CreateUnique => create_unique_per_op(n),
            Op::DestroyUniqueOldestFirst => destroy_unique_per_op(n, End::OldestFirst),
            Op::DestroyUniqueNewestFirst => destroy_unique_per_op(n, End::NewestFirst),
            Op::Subscribe => subscribe_per_op(audience.get_or_insert_with(build), n),
            Op::Broadcast => broadcast_per_delivery(audience.get_or_insert_with(build), n),
            Op::DestroyChildrenOldestFirst => destroy_children_per_op(n),
            Op::DestroySubscribers => {
                destroy_subscribers_per_op(audience.get_or_insert_with(build), n)
            }
            Op::Unsubscribe => unsubscribe_per_op(audience.get_or_insert_with(build), n),
            Op::HashMapInsert => hashmap_insert_per_op(n),
            Op::HashMapRemove => hashmap_remove_per_op(n),
        };
        figures.push(figure);
    }
    figures
}

fn size_label(n: usize) -> String {
    format!("{}k", n / 1_000)
}

/// Whether this is a benchmark run (`cargo bench`), not `cargo test
/// --benches` or `--list`, which only check that the benchmarks run.
fn benchmarking() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    has("--bench") && !has("--test") && !has("--list")
}

fn main() {
    let started = Instant::now();
    if !benchmarking() {
        let figures = measure(SIZES[0]);
        for (op, figure) in Op::ALL.iter().zip(figures) {
            println!(
                "scale/{} at {}: {figure:.1} {} (a check run; `cargo bench --bench scale` \
                 measures every size)",
                op.name(),
                size_label(SIZES[0]),
                op.unit()
            );
        }
        return;
    }

    // figures[size][op]
    let figures: Vec<Vec<f64>> = SIZES.iter().map(|&n| measure(n)).collect();
    println!(
        "scale: at 1k / 10k / 100k, the best of up to {} / {} / {} rounds (none started after \
         {} s on one figure) of K = min(N, {SAMPLE}) operations; a broadcast round is one \
         broadcast to N subscribers",
        rounds(SIZES[0]),
        rounds(SIZES[1]),
        rounds(SIZES[2]),
        FIGURE_BUDGET.as_secs()
    );
    for (i, op) in Op::ALL.iter().enumerate() {
        let at: Vec<f64> = figures.iter().map(|f| f[i]).collect();
        let ratio = at[2] / at[0];
        let sizes = SIZES
            .iter()
            .zip(&at)
            .map(|(&n, figure)| format!("{}: {figure:.1} {}", size_label(n), op.unit()))
            .collect::<Vec<_>>()
            .join(", ");
        let target = if op.is_orientation() {
            "orientation: std HashMap<String, u32>, no target".to_owned()
        } else {
            let verdict = if ratio <= TARGET { "met" } else { "missed" };
            format!("target <= {TARGET}: {verdict}")
        };
        println!(
            "ratio scale/{} {}/{} = {ratio:.2} ({sizes}; {target})",
            op.name(),
            size_label(SIZES[2]),
            size_label(SIZES[0])
        );
    }
    println!(
        "scale: measured in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
