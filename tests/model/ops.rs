//! The operations the model-based test performs, what they log, and the
//! strategies that generate them.
//!
//! An operation names gobjs by selector ([`Sel`]), never by id, so the same
//! sequence means the same thing to the runtime and to the model: `Nth(n)`
//! is the gobj created `n`-th (modulo how many were created, dead ones
//! included, so destroyed ids get used too); `Me`, `Parent` and `Source` are
//! relative to the action running a script. Scripts ride in payloads: an
//! event carries the number of a script, and the receiving action runs its
//! operations.

use std::fmt;

use proptest::prelude::*;

/// One tick of the gaplic's clock is a microsecond; delays are counted in
/// units of 1/64 s, exact in ticks and in `f64` seconds (for `GTimer`).
pub const UNIT_TICKS: u64 = 15_625;

/// The most gobjs alive at once: a create beyond it is skipped.
pub const MAX_ALIVE: usize = 12;

/// Unique names are taken from this many: `u0`, `u1`, ...
pub const UNIQUE_NAMES: u8 = 4;

/// A gobj chosen by an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sel {
    /// The gobj created `n`-th, modulo how many were created (alive or not).
    Nth(u8),
    /// The gobj whose action runs the script.
    Me,
    /// The parent of `Me`.
    Parent,
    /// The gobj that sent the event `Me` is handling.
    Source,
}

/// Who an event or a subscription is addressed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum To {
    /// A gobj, by id.
    Gobj(Sel),
    /// Whoever holds unique name `u<n>`.
    Named(u8),
}

/// The event names the operations use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ev {
    /// Input and output of `Node`.
    A,
    /// Input and output of `Node`; moves it between its two states.
    B,
    /// Output only, of `Node`: as input, an unknown event.
    C,
    /// Input of `Node`, accepted in its first state only.
    Renamed,
    /// Input of `Node`; output of `GTimer`.
    Timeout,
}

impl Ev {
    /// The event's name.
    pub fn name(self) -> &'static str {
        match self {
            Ev::A => "EV_A",
            Ev::B => "EV_B",
            Ev::C => "EV_C",
            Ev::Renamed => "EV_RENAMED",
            Ev::Timeout => "EV_TIMEOUT",
        }
    }
}

/// Subscription options, as generated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Opts {
    /// Delivered by post.
    pub post: bool,
    /// Delivered under this name.
    pub rename: Option<Ev>,
    /// Refused by unsubscribe unless forced.
    pub hard: bool,
    /// Added to the payload as `subscription_reference`.
    pub reference: Option<u8>,
    /// Ends after its first delivery.
    pub first_shot: bool,
}

/// Operations that an event's receiver runs. Numbered after generation
/// ([`number_scripts`]); the payload carries the number.
#[derive(Clone, PartialEq)]
pub struct Script {
    /// Its number in the scenario's table of scripts.
    pub id: usize,
    /// What it does.
    pub ops: Vec<Op>,
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, op) in self.ops.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{op:?}")?;
        }
        f.write_str("]")
    }
}

/// One operation on a gaplic, at top level, in an action or in a timer's
/// callback. Printed in one line, as `send(EV_A to #2, script [destroy(me)])`
/// (`#n`: the gobj created n-th, modulo how many were).
#[derive(Clone, PartialEq)]
pub enum Op {
    /// Creates a `Node`, unique-named `u<n>` or plainly named after its
    /// number, child of `parent` (of the gaplic when `None`).
    Create {
        parent: Option<Sel>,
        unique: Option<u8>,
    },
    /// Creates a `GTimer` with `seconds` units (negative: disarmed) and
    /// `autostart`.
    CreateTimer {
        parent: Option<Sel>,
        units: i8,
        autostart: bool,
    },
    /// Destroys a gobj.
    Destroy(Sel),
    /// Gives a `Node` a script that its `go_out` runs (`None`: none).
    Farewell { gobj: Sel, script: Option<Script> },
    /// Sends an event directly.
    Send {
        to: To,
        event: Ev,
        script: Option<Script>,
    },
    /// Posts an event.
    Post {
        to: To,
        event: Ev,
        script: Option<Script>,
    },
    /// Publishes an event of `from`.
    Broadcast {
        from: Sel,
        event: Ev,
        script: Option<Script>,
    },
    /// Subscribes `subscriber` to `event` (`None`: all) of `publisher`.
    Subscribe {
        publisher: Sel,
        event: Option<Ev>,
        subscriber: To,
        opts: Opts,
    },
    /// Ends the subscription of `subscriber` to `event` of `publisher`.
    Unsubscribe {
        publisher: Sel,
        event: Option<Ev>,
        subscriber: To,
        force: bool,
    },
    /// Subscribes again, with new options, the publisher, event and
    /// subscriber of the `n`-th subscription reported so far (modulo their
    /// number), whether it still exists or not.
    Resubscribe { nth: u8, opts: Opts },
    /// Unsubscribes the publisher, event and subscriber of the `n`-th
    /// subscription reported so far.
    UnsubscribeNth { nth: u8, force: bool },
    /// Ends the `n`-th subscription reported so far, by id.
    DeleteSubscription { nth: u8, force: bool },
    /// Ends every subscription to `publisher`.
    DeleteSubscriptions { publisher: Sel, force: bool },
    /// Arms a callback timer that runs `script`.
    SetTimer { units: u8, script: Option<Script> },
    /// Arms a timer that sends `event` to `owner`.
    SetGobjTimer {
        owner: Sel,
        units: u8,
        event: Ev,
        script: Option<Script>,
    },
    /// Cancels the `n`-th timer armed so far (modulo their number).
    CancelTimer(u8),
    /// Sends `EV_SET_TIMER` (to a `GTimer`, or to a `Node`, which refuses
    /// it); `units` negative disarms.
    ArmTimer {
        timer: Sel,
        units: Option<i8>,
        autostart: Option<bool>,
    },
    /// Asks the gaplic to stop.
    Stop,
    /// One turn of the loop (top level only).
    Turn,
    /// Turns until idle (top level only).
    RunUntilIdle,
    /// Moves the virtual clock (top level only).
    Advance(u8),
}

/// A whole case: the gaplic's settings and the top-level operations.
#[derive(Clone)]
pub struct Scenario {
    /// Posted events per turn.
    pub batch: usize,
    /// How deep direct sends may nest.
    pub max_send_depth: usize,
    /// The operations, in order.
    pub steps: Vec<Op>,
}

/// What one operation or delivery left in the log.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    /// A `Node`'s action ran on an event.
    Got {
        gobj: usize,
        /// The name as delivered.
        event: &'static str,
        source: Option<usize>,
        original: Option<String>,
        reference: Option<i64>,
        script: Option<usize>,
    },
    /// A `Node`'s `go_out` ran.
    GoOut(usize),
    /// Callback timer number `n` fired.
    Fired(usize),
    /// An operation (named) and what it returned.
    Did(&'static str, Outcome),
}

/// What an operation returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It was not performed: a selector named nobody, or a limit.
    Skipped,
    /// `Ok(())`.
    Done,
    /// A gobj was created with this number.
    Created(usize),
    /// A send ran the action, which returned this (`Node`s return their
    /// number, `GTimer`s null).
    Answered(Option<i64>),
    /// A send was queued behind the receiver's running action.
    Queued,
    /// A subscription, by the number it got when first reported.
    Subscription(usize),
    /// How many subscriptions ended.
    Count(usize),
    /// A timer, by number.
    Timer(usize),
    /// What `cancel_timer` or `turn` answered.
    Bool(bool),
    /// The error's kind.
    Failed(&'static str),
}

impl Op {
    /// The name logged with the operation's outcome.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Create { .. } => "create",
            Op::CreateTimer { .. } => "create_timer",
            Op::Destroy(_) => "destroy",
            Op::Farewell { .. } => "farewell",
            Op::Send { .. } => "send",
            Op::Post { .. } => "post",
            Op::Broadcast { .. } => "broadcast",
            Op::Subscribe { .. } => "subscribe",
            Op::Unsubscribe { .. } | Op::UnsubscribeNth { .. } => "unsubscribe",
            Op::Resubscribe { .. } => "resubscribe",
            Op::DeleteSubscription { .. } => "delete_subscription",
            Op::DeleteSubscriptions { .. } => "delete_subscriptions",
            Op::SetTimer { .. } => "set_timer",
            Op::SetGobjTimer { .. } => "set_gobj_timer",
            Op::CancelTimer(_) => "cancel_timer",
            Op::ArmTimer { .. } => "arm_timer",
            Op::Stop => "stop",
            Op::Turn => "turn",
            Op::RunUntilIdle => "run_until_idle",
            Op::Advance(_) => "advance",
        }
    }

    fn script_mut(&mut self) -> Option<&mut Script> {
        match self {
            Op::Send { script, .. }
            | Op::Post { script, .. }
            | Op::Broadcast { script, .. }
            | Op::SetTimer { script, .. }
            | Op::SetGobjTimer { script, .. }
            | Op::Farewell { script, .. } => script.as_mut(),
            _ => None,
        }
    }
}

impl fmt::Display for Sel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sel::Nth(n) => write!(f, "#{n}"),
            Sel::Me => f.write_str("me"),
            Sel::Parent => f.write_str("parent"),
            Sel::Source => f.write_str("source"),
        }
    }
}

impl fmt::Display for To {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            To::Gobj(sel) => write!(f, "{sel}"),
            To::Named(n) => write!(f, "\"u{n}\""),
        }
    }
}

impl fmt::Display for Opts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.post {
            f.write_str(", post")?;
        }
        if let Some(rename) = self.rename {
            write!(f, ", rename {}", rename.name())?;
        }
        if self.hard {
            f.write_str(", hard")?;
        }
        if let Some(reference) = self.reference {
            write!(f, ", reference {reference}")?;
        }
        if self.first_shot {
            f.write_str(", first_shot")?;
        }
        Ok(())
    }
}

/// `, script [...]`, or nothing.
struct WithScript<'a>(&'a Option<Script>);

impl fmt::Display for WithScript<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(script) => write!(f, ", script {script:?}"),
            None => Ok(()),
        }
    }
}

/// `, force`, or nothing.
fn force(force: bool) -> &'static str {
    if force { ", force" } else { "" }
}

/// The name of `event`, or "all" for `None`.
fn published_name(event: Option<Ev>) -> &'static str {
    event.map_or("all", Ev::name)
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Create { parent, unique } => {
                f.write_str("create(")?;
                match parent {
                    Some(parent) => write!(f, "under {parent}")?,
                    None => f.write_str("at top")?,
                }
                if let Some(n) = unique {
                    write!(f, ", unique \"u{n}\"")?;
                }
                f.write_str(")")
            }
            Op::CreateTimer {
                parent,
                units,
                autostart,
            } => {
                f.write_str("create_gtimer(")?;
                match parent {
                    Some(parent) => write!(f, "under {parent}")?,
                    None => f.write_str("at top")?,
                }
                write!(f, ", {units} units, autostart {autostart})")
            }
            Op::Destroy(sel) => write!(f, "destroy({sel})"),
            Op::Farewell { gobj, script } => match script {
                Some(script) => write!(f, "farewell({gobj}, script {script:?})"),
                None => write!(f, "farewell({gobj}, none)"),
            },
            Op::Send { to, event, script } => {
                write!(f, "send({} to {to}{})", event.name(), WithScript(script))
            }
            Op::Post { to, event, script } => {
                write!(f, "post({} to {to}{})", event.name(), WithScript(script))
            }
            Op::Broadcast {
                from,
                event,
                script,
            } => write!(
                f,
                "broadcast({} of {from}{})",
                event.name(),
                WithScript(script)
            ),
            Op::Subscribe {
                publisher,
                event,
                subscriber,
                opts,
            } => write!(
                f,
                "subscribe({subscriber} to {} of {publisher}{opts})",
                published_name(*event)
            ),
            Op::Unsubscribe {
                publisher,
                event,
                subscriber,
                force: forced,
            } => write!(
                f,
                "unsubscribe({subscriber} from {} of {publisher}{})",
                published_name(*event),
                force(*forced)
            ),
            Op::Resubscribe { nth, opts } => write!(f, "resubscribe(subscription {nth}{opts})"),
            Op::UnsubscribeNth { nth, force: forced } => {
                write!(f, "unsubscribe(subscription {nth}{})", force(*forced))
            }
            Op::DeleteSubscription { nth, force: forced } => {
                write!(f, "delete_subscription({nth}{})", force(*forced))
            }
            Op::DeleteSubscriptions {
                publisher,
                force: forced,
            } => write!(f, "delete_subscriptions(of {publisher}{})", force(*forced)),
            Op::SetTimer { units, script } => {
                write!(f, "set_timer({units} units{})", WithScript(script))
            }
            Op::SetGobjTimer {
                owner,
                units,
                event,
                script,
            } => write!(
                f,
                "set_gobj_timer({} to {owner} in {units} units{})",
                event.name(),
                WithScript(script)
            ),
            Op::CancelTimer(nth) => write!(f, "cancel_timer({nth})"),
            Op::ArmTimer {
                timer,
                units,
                autostart,
            } => {
                write!(f, "arm_timer({timer}")?;
                if let Some(units) = units {
                    write!(f, ", {units} units")?;
                }
                if let Some(autostart) = autostart {
                    write!(f, ", autostart {autostart}")?;
                }
                f.write_str(")")
            }
            Op::Stop => f.write_str("stop"),
            Op::Turn => f.write_str("turn"),
            Op::RunUntilIdle => f.write_str("run_until_idle"),
            Op::Advance(units) => write!(f, "advance({units} units)"),
        }
    }
}

/// One operation a line, numbered as the assertions number steps.
impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "batch {}, max_send_depth {}:",
            self.batch, self.max_send_depth
        )?;
        for (i, op) in self.steps.iter().enumerate() {
            write!(f, "\n  {i:2}: {op:?}")?;
        }
        Ok(())
    }
}

/// The seconds a `GTimer` is given for `units` (negative: disarmed).
pub fn seconds(units: i8) -> f64 {
    if units < 0 {
        -1.0
    } else {
        f64::from(units) / 64.0
    }
}

/// Numbers every script of `steps`, depth first, and returns the table of
/// their operations by number.
pub fn number_scripts(steps: &mut [Op]) -> Vec<Vec<Op>> {
    fn walk(ops: &mut [Op], table: &mut Vec<Vec<Op>>) {
        for op in ops {
            if let Some(script) = op.script_mut() {
                script.id = table.len();
                table.push(Vec::new());
                walk(&mut script.ops, table);
                table[script.id] = script.ops.clone();
            }
        }
    }
    let mut table = Vec::new();
    walk(steps, &mut table);
    table
}

// ----- strategies --------------------------------------------------------------

/// Scripts nest at most this deep: a script's operations at the last level
/// carry none.
const MAX_LEVEL: u32 = 2;

fn sel(level: u32) -> BoxedStrategy<Sel> {
    let nth = (0u8..16).prop_map(Sel::Nth);
    if level == 0 {
        nth.boxed()
    } else {
        prop_oneof![
            5 => nth,
            3 => Just(Sel::Me),
            2 => Just(Sel::Parent),
            2 => Just(Sel::Source),
        ]
        .boxed()
    }
}

fn to(level: u32) -> BoxedStrategy<To> {
    prop_oneof![
        5 => sel(level).prop_map(To::Gobj),
        1 => (0..UNIQUE_NAMES).prop_map(To::Named),
    ]
    .boxed()
}

fn ev() -> impl Strategy<Value = Ev> {
    prop_oneof![
        5 => Just(Ev::A),
        3 => Just(Ev::B),
        1 => Just(Ev::C),
        1 => Just(Ev::Renamed),
        1 => Just(Ev::Timeout),
    ]
}

/// An event to subscribe to: mostly the outputs of `Node`, sometimes the
/// one of `GTimer`; `None` for all of them.
fn published() -> impl Strategy<Value = Option<Ev>> {
    prop_oneof![
        2 => Just(None),
        4 => Just(Some(Ev::A)),
        3 => Just(Some(Ev::B)),
        1 => Just(Some(Ev::C)),
        1 => Just(Some(Ev::Timeout)),
    ]
}

fn opts() -> impl Strategy<Value = Opts> {
    (
        any::<bool>(),
        prop::option::weighted(
            0.3,
            prop_oneof![Just(Ev::Renamed), Just(Ev::A), Just(Ev::C)],
        ),
        prop::bool::weighted(0.3),
        prop::option::weighted(0.3, 0u8..4),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(post, rename, hard, reference, first_shot)| Opts {
            post,
            rename,
            hard,
            reference,
            first_shot,
        })
}

/// A `GTimer` period: disarmed, or 1 to 4 units (never 0: a cyclic timer
/// of period 0 would fire forever at one instant).
fn period() -> impl Strategy<Value = i8> {
    prop_oneof![1 => Just(-1i8), 3 => 1i8..5]
}

fn script(level: u32) -> BoxedStrategy<Option<Script>> {
    if level >= MAX_LEVEL {
        return Just(None).boxed();
    }
    prop::option::weighted(
        0.6,
        prop::collection::vec(op(level + 1), 1..5).prop_map(|ops| Script { id: 0, ops }),
    )
    .boxed()
}

/// An operation at script level `level` (0: top level).
pub fn op(level: u32) -> BoxedStrategy<Op> {
    let parent = prop::option::weighted(0.6, sel(level));
    let create = (parent.clone(), prop::option::weighted(0.4, 0..UNIQUE_NAMES))
        .prop_map(|(parent, unique)| Op::Create { parent, unique });
    let create_timer =
        (parent, period(), prop::bool::weighted(0.4)).prop_map(|(parent, units, autostart)| {
            Op::CreateTimer {
                parent,
                units,
                autostart,
            }
        });
    let send = (to(level), ev(), script(level)).prop_map(|(to, event, script)| Op::Send {
        to,
        event,
        script,
    });
    let post = (to(level), ev(), script(level)).prop_map(|(to, event, script)| Op::Post {
        to,
        event,
        script,
    });
    let broadcast =
        (sel(level), ev(), script(level)).prop_map(|(from, event, script)| Op::Broadcast {
            from,
            event,
            script,
        });
    let subscribe = (sel(level), published(), to(level), opts()).prop_map(
        |(publisher, event, subscriber, opts)| Op::Subscribe {
            publisher,
            event,
            subscriber,
            opts,
        },
    );
    let unsubscribe = (sel(level), published(), to(level), any::<bool>()).prop_map(
        |(publisher, event, subscriber, force)| Op::Unsubscribe {
            publisher,
            event,
            subscriber,
            force,
        },
    );
    let resubscribe = (0u8..16, opts()).prop_map(|(nth, opts)| Op::Resubscribe { nth, opts });
    let unsubscribe_nth =
        (0u8..16, any::<bool>()).prop_map(|(nth, force)| Op::UnsubscribeNth { nth, force });
    let delete_subscription =
        (0u8..16, any::<bool>()).prop_map(|(nth, force)| Op::DeleteSubscription { nth, force });
    let delete_subscriptions = (sel(level), any::<bool>())
        .prop_map(|(publisher, force)| Op::DeleteSubscriptions { publisher, force });
    let set_timer =
        (0u8..6, script(level)).prop_map(|(units, script)| Op::SetTimer { units, script });
    let set_gobj_timer =
        (sel(level), 0u8..6, ev(), script(level)).prop_map(|(owner, units, event, script)| {
            Op::SetGobjTimer {
                owner,
                units,
                event,
                script,
            }
        });
    let arm_timer = (
        sel(level),
        prop::option::weighted(0.8, period()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(timer, units, autostart)| Op::ArmTimer {
            timer,
            units,
            autostart,
        });
    let anywhere = prop_oneof![
        5 => create,
        2 => create_timer,
        4 => sel(level).prop_map(Op::Destroy),
        2 => (sel(level), script(level))
            .prop_map(|(gobj, script)| Op::Farewell { gobj, script }),
        7 => send,
        5 => post,
        8 => broadcast,
        6 => subscribe,
        1 => unsubscribe,
        2 => resubscribe,
        2 => unsubscribe_nth,
        1 => delete_subscription,
        1 => delete_subscriptions,
        2 => set_timer,
        3 => set_gobj_timer,
        2 => (0u8..16).prop_map(Op::CancelTimer),
        2 => arm_timer,
    ];
    if level == 0 {
        prop_oneof![
            160 => anywhere,
            12 => Just(Op::Turn),
            10 => Just(Op::RunUntilIdle),
            16 => (0u8..8).prop_map(Op::Advance),
            1 => Just(Op::Stop),
        ]
        .boxed()
    } else {
        prop_oneof![
            150 => anywhere,
            1 => Just(Op::Stop),
        ]
        .boxed()
    }
}

/// The start of every scenario: a few gobjs, in a random tree, some
/// unique-named, and subscriptions among them, so that the operations after
/// it find a populated world.
fn population() -> impl Strategy<Value = Vec<Op>> {
    let create = (
        prop::option::weighted(0.5, (0u8..8).prop_map(Sel::Nth)),
        prop::option::weighted(0.3, 0..UNIQUE_NAMES),
    )
        .prop_map(|(parent, unique)| Op::Create { parent, unique });
    let subscribe =
        (0u8..8, published(), to(0), opts()).prop_map(|(publisher, event, subscriber, opts)| {
            Op::Subscribe {
                publisher: Sel::Nth(publisher),
                event,
                subscriber,
                opts,
            }
        });
    (
        prop::collection::vec(create, 1..9),
        prop::collection::vec(subscribe, 0..16),
    )
        .prop_map(|(creates, subscribes)| {
            // The first one has no parent to find.
            let first = Op::Create {
                parent: None,
                unique: None,
            };
            std::iter::once(first)
                .chain(creates)
                .chain(subscribes)
                .collect()
        })
}

/// A scenario: a population, then up to `max_steps` top-level operations.
pub fn scenario(max_steps: usize) -> impl Strategy<Value = Scenario> {
    (
        prop_oneof![Just(1usize), Just(2), Just(3), Just(256)],
        prop_oneof![Just(1usize), Just(2), Just(3), Just(128)],
        population(),
        prop::collection::vec(op(0), 1..=max_steps),
    )
        .prop_map(|(batch, max_send_depth, mut steps, more)| {
            steps.extend(more);
            Scenario {
                batch,
                max_send_depth,
                steps,
            }
        })
}
