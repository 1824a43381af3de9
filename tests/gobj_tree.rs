//! The gobj tree of a gaplic: creation (GinsFSM scenarios 11, 14, 20, 21,
//! 29, 30), hooks, attrs from global settings, unique names, destruction
//! and generational ids.

mod support;

use std::cell::RefCell;
use std::time::Duration;

use gaplic::prelude::*;
use gaplic::{GTimer, GobjError};
use support::warnings;

thread_local! {
    /// What the hooks and actions of this file's gobjs did, in order. Each
    /// test runs on its own thread, so each sees only its own gobjs.
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn log(line: String) {
    LOG.with(|l| l.borrow_mut().push(line));
}

fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

gobj! {
    /// A node of a tree: logs its hooks, and can destroy itself.
    struct Node {
        /// `start_up` fails.
        #[attr(default = false)]
        fail_start_up: bool,
        /// `start_up` panics.
        #[attr(default = false)]
        panic_start_up: bool,
        /// `go_out` panics.
        #[attr(default = false)]
        panic_go_out: bool,
        /// `start_up` makes a child (and an armed GTimer) first.
        #[attr(default = false)]
        make_children: bool,
        /// In `start_up`: whether its unique name already found it.
        found_by_name_in_start_up: Option<bool>,
        pings: u32,
    }
    events {
        EV_PING,
        EV_DESTROY_SELF,
        EV_CHANGED: output,
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_PING => ping,
            EV_DESTROY_SELF => destroy_self,
        }
    }
    hooks { start_up, go_out }
}

impl Node {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        log(format!("start_up {}", cx.name()));
        if self.make_children {
            cx.create_child::<Node>("kid", Kw::new())?;
            cx.create_child::<GTimer>("kid-timer", kw! { "seconds" => 1 })?;
        }
        if self.panic_start_up {
            panic!("start_up of {} panics", cx.name());
        }
        if self.fail_start_up {
            return Err(GobjError::failed(format!("{} refuses to start", cx.name())));
        }
        let me = cx.id();
        let name = cx.name().to_owned();
        self.found_by_name_in_start_up = Some(cx.gaplic()?.find_unique_gobj(&name) == me);
        Ok(())
    }

    fn go_out(&mut self, cx: &mut Cx<Self>) {
        log(format!("go_out {}", cx.name()));
        if self.panic_go_out {
            panic!("go_out of {} panics", cx.name());
        }
    }

    fn ping(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.pings += 1;
        Ok(Value::from(self.pings))
    }

    fn destroy_self(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        let me = cx.id().expect("in a gaplic");
        let gaplic = cx.gaplic()?;
        gaplic.destroy_gobj(me)?;
        let still_there = cx.gaplic()?.contains(me);
        log(format!(
            "{} still there after asking: {still_there}",
            cx.name()
        ));
        Ok(Value::from("bye"))
    }
}

fn gaplic(name: &str) -> Gaplic {
    Gaplic::builder(name).virtual_clock().build().unwrap()
}

fn node(gaplic: &mut Gaplic, name: &str, parent: Option<GobjId>) -> GobjId {
    gaplic.create_gobj::<Node>(name, parent, Kw::new()).unwrap()
}

// ----- creation ----------------------------------------------------------------

/// GinsFSM refuses `create_gobj(None, None, None)`, a `dict` as gclass and
/// `{}` as parent at run time. In gaplic the gclass is a type parameter
/// bounded by `Gclass` and the parent an `Option<GobjId>`, so those calls do
/// not compile; what remains to check at run time is a parent id that does
/// not (or no longer) exist, and creation keywords that do not fit.
#[test]
fn scenario_11_creation_with_a_bad_parent_or_bad_keywords_is_refused() {
    let mut g = gaplic("tree-11");
    let never = GobjId::new(42, 0);
    let error = g
        .create_gobj::<Node>("orphan", Some(never), Kw::new())
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Destroyed { gobj } if *gobj == never),
        "{error}"
    );

    let parent = node(&mut g, "parent", None);
    g.destroy_gobj(parent).unwrap();
    let error = g
        .create_gobj::<Node>("orphan", Some(parent), Kw::new())
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Destroyed { gobj } if *gobj == parent),
        "{error}"
    );

    let error = g
        .create_gobj::<Node>("n", None, kw! { "nope" => 1 })
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::UnknownAttr { gclass: "Node", attr } if attr == "nope"),
        "{error}"
    );
    let error = g
        .create_gobj::<Node>("n", None, kw! { "fail_start_up" => "yes" })
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::BadAttr { gclass: "Node", .. }),
        "{error}"
    );

    // Only the parent was ever made and started.
    assert_eq!(g.len(), 0);
    assert_eq!(take_log(), ["start_up parent", "go_out parent"]);
}

#[test]
fn start_up_runs_after_creation_and_already_finds_its_unique_name() {
    let mut g = gaplic("tree-start-up");
    let root = node(&mut g, "root", None);
    let id = g
        .create_unique_gobj::<Node>("principal", Some(root), Kw::new())
        .unwrap();
    assert_eq!(
        g.gobj::<Node>(id).unwrap().found_by_name_in_start_up,
        Some(true)
    );
    assert_eq!(
        g.gobj::<Node>(root).unwrap().found_by_name_in_start_up,
        Some(false),
        "root has no unique name"
    );
    assert_eq!(g.parent_of(id), Some(root));
    assert_eq!(g.children_of(root).collect::<Vec<_>>(), [id]);
    assert_eq!(take_log(), ["start_up root", "start_up principal"]);
}

#[test]
fn a_failing_start_up_refuses_the_creation_and_frees_the_name() {
    let mut g = gaplic("tree-bad-start");
    let root = node(&mut g, "root", None);
    let error = g
        .create_unique_gobj::<Node>("u", Some(root), kw! { "fail_start_up" => true })
        .unwrap_err();
    assert_eq!(error.to_string(), "u refuses to start");
    assert_eq!(g.len(), 1);
    assert_eq!(g.find_unique_gobj("u"), None);
    assert!(g.children_of(root).next().is_none());

    let u = g
        .create_unique_gobj::<Node>("u", Some(root), Kw::new())
        .unwrap();
    assert_eq!(g.find_unique_gobj("u"), Some(u));
    assert_eq!(g.children_of(root).collect::<Vec<_>>(), [u]);
}

/// `create_gobj`: "the error `start_up` returns (the gobj is then
/// destroyed again)"; the children its `start_up` made go with it, and
/// the GTimer among them is disarmed.
#[test]
fn a_failing_start_up_leaves_no_children_behind() {
    let mut g = gaplic("tree-bad-start-kids");
    for kw in [
        kw! { "make_children" => true, "fail_start_up" => true },
        kw! { "make_children" => true, "panic_start_up" => true },
    ] {
        g.create_gobj::<Node>("n", None, kw).unwrap_err();
        assert_eq!(g.len(), 0, "left: {:?}", g.gobj_ids().collect::<Vec<_>>());
        assert_eq!(g.timer_count(), 0);
        let log = take_log();
        assert!(log.contains(&"go_out kid".to_owned()), "{log:?}");
    }
}

#[test]
fn a_panicking_start_up_is_caught_and_nothing_is_created() {
    let mut g = gaplic("tree-panic-start");
    let error = g
        .create_unique_gobj::<Node>("p", None, kw! { "panic_start_up" => true })
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Panicked { gclass: "Node", gobj, message, .. }
            if &**gobj == "p" && message == "start_up of p panics"),
        "{error}"
    );
    assert_eq!(g.len(), 0);
    assert_eq!(g.find_unique_gobj("p"), None);
    // The gaplic goes on.
    let p = g.create_unique_gobj::<Node>("p", None, Kw::new()).unwrap();
    assert_eq!(
        g.send(p, NodeEvent::EV_PING, Kw::new()).unwrap(),
        Value::from(1)
    );
}

/// `GobjError::Panicked::event` is documented as "the event it was
/// handling (or the hook it was running)".
#[test]
fn a_panic_in_a_hook_names_the_hook() {
    let mut g = gaplic("tree-panic-hook");
    let error = g
        .create_gobj::<Node>("p", None, kw! { "panic_start_up" => true })
        .unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::Panicked {
                event: "start_up",
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn a_panicking_go_out_is_traced_and_the_gobj_is_destroyed_all_the_same() {
    let mut g = gaplic("tree-panic-out");
    let root = node(&mut g, "root", None);
    let child = g
        .create_unique_gobj::<Node>("child", Some(root), kw! { "panic_go_out" => true })
        .unwrap();
    let (result, traces) = warnings(|| g.destroy_gobj(root));
    result.unwrap();
    assert!(!g.contains(child) && !g.contains(root));
    assert_eq!(g.find_unique_gobj("child"), None);
    assert!(traces.contains("go_out failed"), "{traces}");
    assert!(traces.contains("go_out of child panics"), "{traces}");
    assert_eq!(
        take_log(),
        [
            "start_up root",
            "start_up child",
            "go_out child",
            "go_out root"
        ]
    );
}

// ----- attrs from global settings -------------------------------------------

gobj! {
    /// GinsFSM's `TransmitterGObj` of scenario 20.
    struct TransmitterGobj {
        #[attr(default = 0)]
        param1: i64,
        #[attr(default = false)]
        param2: bool,
        #[attr]
        param3: Option<String>,
    }
    events { EV_NOTHING }
    states { ST_IDLE }
    machine { ST_IDLE { EV_NOTHING -> ST_IDLE } }
}

/// Settings `name.attr` apply to the gobj of that name, `Gclass.attr` to
/// every gobj of the gclass, and keys that match nothing are ignored.
/// GinsFSM's `app:NAME` strings and callable attrs have no counterpart
/// (gaplic has no global apps, and attrs are typed values): `app:yyy` is
/// a plain string here.
#[test]
fn scenario_20_settings_with_dotted_names() {
    let settings = kw! {
        "Transmitter.param1" => 2,
        "TransmitterGobj.param2" => true,
        "TransmitterGobj.param3" => "app:yyy",
        "Transmitter.param4" => "xxx",
        "OtherGclass.param1" => 99,
    };
    let mut g = Gaplic::builder("tree-20")
        .virtual_clock()
        .settings(settings)
        .build()
        .unwrap();
    let t = g
        .create_gobj::<TransmitterGobj>("Transmitter", None, Kw::new())
        .unwrap();
    let t = g.gobj::<TransmitterGobj>(t).unwrap();
    assert_eq!(t.param1, 2);
    assert!(t.param2);
    assert_eq!(t.param3.as_deref(), Some("app:yyy"));

    let other = g
        .create_gobj::<TransmitterGobj>("Receiver", None, kw! { "param1" => 7 })
        .unwrap();
    let other = g.gobj::<TransmitterGobj>(other).unwrap();
    assert_eq!(
        other.param1, 7,
        "`Transmitter.param1` is for Transmitter only"
    );
    assert!(
        other.param2,
        "`TransmitterGobj.param2` is for the whole gclass"
    );

    // GinsFSM's `GObj.attr`: every gclass that has the attr.
    let mut g = Gaplic::builder("tree-20-gobj")
        .virtual_clock()
        .settings(kw! { "GObj.param1" => 5, "GObj.nothing_has_this" => 1 })
        .build()
        .unwrap();
    let t = g
        .create_gobj::<TransmitterGobj>("any", None, kw! { "param1" => 7 })
        .unwrap();
    assert_eq!(g.gobj::<TransmitterGobj>(t).unwrap().param1, 5);
}

gobj! {
    /// GinsFSM's `K` of scenario 29; notes its attrs in `start_up`.
    struct K {
        #[attr(default = 0)]
        p: i64,
        #[attr(default = "default-q")]
        q: String,
        seen_in_start_up: Option<(i64, String)>,
    }
    events { EV_NOTHING }
    states { ST_IDLE }
    machine { ST_IDLE { EV_NOTHING -> ST_IDLE } }
    hooks { start_up }
}

impl K {
    fn start_up(&mut self, _cx: &mut Cx<Self>) -> Result<(), GobjError> {
        self.seen_in_start_up = Some((self.p, self.q.clone()));
        Ok(())
    }
}

gobj! {
    /// Another gclass with an attr `p`.
    struct K2 {
        #[attr(default = 0)]
        p: i64,
    }
    events { EV_NOTHING }
    states { ST_IDLE }
    machine { ST_IDLE { EV_NOTHING -> ST_IDLE } }
}

#[test]
fn scenario_29_global_settings_win_over_creation_keywords_already_in_start_up() {
    let mut g = Gaplic::builder("tree-29")
        .virtual_clock()
        .settings(kw! { "K.p" => 10, "q" => "global-q" })
        .build()
        .unwrap();
    let k = g
        .create_gobj::<K>("k", None, kw! { "p" => 5, "q" => "kw-q" })
        .unwrap();
    let k = g.gobj::<K>(k).unwrap();
    assert_eq!((k.p, k.q.as_str()), (10, "global-q"));
    assert_eq!(k.seen_in_start_up, Some((10, "global-q".to_owned())));

    let k2 = g.create_gobj::<K2>("k2", None, kw! { "p" => 5 }).unwrap();
    assert_eq!(g.gobj::<K2>(k2).unwrap().p, 5);
}

#[test]
fn settings_apply_to_gobjs_created_afterwards_and_a_later_key_wins() {
    let mut g = gaplic("tree-settings-order");
    let before = g.create_gobj::<K>("before", None, Kw::new()).unwrap();

    g.set_settings(kw! { "p" => 1, "K.p" => 2 });
    let k = g.create_gobj::<K>("k", None, Kw::new()).unwrap();
    assert_eq!(g.gobj::<K>(k).unwrap().p, 2);

    g.set_settings(kw! { "K.p" => 2, "p" => 1 });
    let k = g.create_gobj::<K>("k", None, Kw::new()).unwrap();
    assert_eq!(g.gobj::<K>(k).unwrap().p, 1);

    g.set_settings(kw! { "k.p" => 3, "K.p" => 2 });
    let k = g.create_gobj::<K>("k", None, Kw::new()).unwrap();
    assert_eq!(
        g.gobj::<K>(k).unwrap().p,
        2,
        "the later key wins, not the narrower"
    );

    assert_eq!(g.gobj::<K>(before).unwrap().p, 0);
}

#[test]
fn a_setting_of_the_wrong_type_refuses_the_creation() {
    let mut g = Gaplic::builder("tree-bad-setting")
        .virtual_clock()
        .settings(kw! { "K.p" => "ten" })
        .build()
        .unwrap();
    let error = g.create_gobj::<K>("k", None, Kw::new()).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::BadAttr { gclass: "K", .. }),
        "{error}"
    );
    assert_eq!(g.len(), 0);
    // A gclass without that attr is not concerned.
    g.create_gobj::<K2>("k2", None, Kw::new()).unwrap();
}

// ----- unique names -------------------------------------------------------------

/// GinsFSM raises for the duplicate too, but leaves the rejected gobj in
/// its parent's children (its `start_up` never runs). gaplic creates
/// nothing: "Unique names are registered per gaplic; a duplicate is an
/// error" (DESIGN.md, "what we keep"), with no half-made gobj left behind.
#[test]
fn scenario_21_duplicate_unique_name_is_refused() {
    let mut g = gaplic("tree-21");
    let root = node(&mut g, "root", None);
    let principal = g
        .create_unique_gobj::<Node>("principal", Some(root), Kw::new())
        .unwrap();
    take_log();

    let error = g
        .create_unique_gobj::<Node>("principal", Some(root), Kw::new())
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::DuplicateName { name } if name == "principal"),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "unique name `principal` is taken already"
    );
    assert_eq!(g.len(), 2);
    assert_eq!(g.children_of(root).collect::<Vec<_>>(), [principal]);
    assert!(take_log().is_empty(), "no start_up ran");
    assert_eq!(g.find_unique_gobj("principal"), Some(principal));
    assert_eq!(
        g.send("principal", NodeEvent::EV_PING, Kw::new()).unwrap(),
        Value::from(1)
    );

    // The subscriber string "principal" is accepted.
    let publisher = node(&mut g, "publisher", None);
    g.subscribe(
        publisher,
        Some("EV_CHANGED"),
        "principal",
        SubscribeOptions::new(),
    )
    .unwrap();
    assert_eq!(g.subscription_count(publisher), 1);

    // A gobj without a unique name may share the name.
    let twin = g.create_gobj::<Node>("principal", None, Kw::new()).unwrap();
    assert_ne!(twin, principal);
    assert_eq!(g.find_unique_gobj("principal"), Some(principal));
}

#[test]
fn scenario_30_a_destroyed_unique_name_can_be_taken_again() {
    let mut g = gaplic("tree-30");
    let u = g.create_unique_gobj::<Node>("u", None, Kw::new()).unwrap();
    g.send("u", NodeEvent::EV_PING, Kw::new()).unwrap();
    g.destroy_gobj(u).unwrap();
    assert_eq!(g.find_unique_gobj("u"), None);
    let error = g.send("u", NodeEvent::EV_PING, Kw::new()).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::UnknownGobj { name } if name == "u"),
        "{error}"
    );

    let again = g.create_unique_gobj::<Node>("u", None, Kw::new()).unwrap();
    assert_ne!(again, u);
    assert_eq!(g.find_unique_gobj("u"), Some(again));
    assert_eq!(
        g.send("u", NodeEvent::EV_PING, Kw::new()).unwrap(),
        Value::from(1)
    );
}

/// GinsFSM's destroy recurses through the base class, so the descendants
/// of a destroyed gobj keep their unique names (GINSFSM.md, section 9).
#[test]
fn destroying_a_gobj_frees_the_unique_names_of_its_descendants() {
    let mut g = gaplic("tree-desc-names");
    let root = node(&mut g, "root", None);
    let mid = g
        .create_unique_gobj::<Node>("mid", Some(root), Kw::new())
        .unwrap();
    g.create_unique_gobj::<Node>("leaf", Some(mid), Kw::new())
        .unwrap();
    g.create_unique_gobj::<Node>("other", None, Kw::new())
        .unwrap();
    assert_eq!(g.unique_names(), ["leaf", "mid", "other"]);

    g.destroy_gobj(root).unwrap();
    assert_eq!(g.unique_names(), ["other"]);
    assert_eq!(g.find_unique_gobj("leaf"), None);
    g.create_unique_gobj::<Node>("leaf", None, Kw::new())
        .unwrap();
}

// ----- destruction --------------------------------------------------------------

#[test]
fn destroy_runs_the_go_out_of_the_children_before_the_parent() {
    let mut g = gaplic("tree-destroy-order");
    let root = node(&mut g, "root", None);
    let a = node(&mut g, "a", Some(root));
    let a1 = node(&mut g, "a1", Some(a));
    let a2 = node(&mut g, "a2", Some(a));
    let b = node(&mut g, "b", Some(root));
    let outsider = node(&mut g, "outsider", None);
    take_log();

    g.destroy_gobj(a).unwrap();
    assert_eq!(take_log(), ["go_out a1", "go_out a2", "go_out a"]);
    assert_eq!(g.children_of(root).collect::<Vec<_>>(), [b]);
    assert!(!g.contains(a1) && !g.contains(a2));

    g.destroy_gobj(root).unwrap();
    assert_eq!(take_log(), ["go_out b", "go_out root"]);
    assert_eq!(g.gobj_ids().collect::<Vec<_>>(), [outsider]);

    let error = g.destroy_gobj(root).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Destroyed { gobj } if *gobj == root),
        "{error}"
    );
    assert!(take_log().is_empty(), "a second destroy runs no go_out");
}

#[test]
fn a_gobj_destroyed_mid_action_goes_out_when_the_action_returns() {
    let mut g = gaplic("tree-self-destroy");
    let root = node(&mut g, "root", None);
    let n = g
        .create_unique_gobj::<Node>("n", Some(root), Kw::new())
        .unwrap();
    take_log();
    let ret = g.send(n, NodeEvent::EV_DESTROY_SELF, Kw::new()).unwrap();
    assert_eq!(ret, Value::from("bye"));
    assert_eq!(take_log(), ["n still there after asking: true", "go_out n"]);
    assert!(!g.contains(n));
    assert!(g.children_of(root).next().is_none());
    assert_eq!(g.find_unique_gobj("n"), None);
}

#[test]
fn a_destroyed_id_is_refused_everywhere_and_a_reused_slot_gets_a_new_generation() {
    let mut g = gaplic("tree-generations");
    let a = node(&mut g, "a", None);
    g.destroy_gobj(a).unwrap();
    let b = node(&mut g, "b", None);
    assert_eq!(b.index(), a.index(), "the slot is reused");
    assert_eq!(b.generation(), a.generation() + 1);

    let destroyed = |e: &GobjError| matches!(e.kind(), ErrorKind::Destroyed { gobj } if *gobj == a);
    let e = g.send(a, NodeEvent::EV_PING, Kw::new()).unwrap_err();
    assert!(destroyed(&e), "{e}");
    let e = g.post(a, NodeEvent::EV_PING, Kw::new()).unwrap_err();
    assert!(destroyed(&e), "{e}");
    let e = g.destroy_gobj(a).unwrap_err();
    assert!(destroyed(&e), "{e}");
    let e = g.set_trace(a, true).unwrap_err();
    assert!(destroyed(&e), "{e}");
    let e = g.create_gobj::<Node>("c", Some(a), Kw::new()).unwrap_err();
    assert!(destroyed(&e), "{e}");
    let e = g
        .subscribe(b, Some("EV_CHANGED"), a, SubscribeOptions::new())
        .unwrap_err();
    assert!(destroyed(&e), "{e}");
    let e = g
        .subscribe(a, Some("EV_CHANGED"), b, SubscribeOptions::new())
        .unwrap_err();
    assert!(destroyed(&e), "{e}");
    let e = g
        .set_gobj_timer(a, Duration::from_secs(1), "EV_PING", Kw::new())
        .unwrap_err();
    assert!(destroyed(&e), "{e}");

    assert!(!g.contains(a));
    assert!(g.gobj::<Node>(a).is_none());
    assert_eq!(g.name_of(a), None);
    assert_eq!(g.state_of(a), None);
    assert!(g.children_of(a).next().is_none());
    g.run_until_idle();
    assert_eq!(
        g.gobj::<Node>(b).unwrap().pings,
        0,
        "nothing for `a` reached `b`"
    );
    assert_eq!(
        g.send(b, NodeEvent::EV_PING, Kw::new()).unwrap(),
        Value::from(1)
    );
}

#[test]
fn the_tree_can_be_inspected() {
    let mut g = gaplic("tree-inspect");
    assert!(g.is_empty());
    let root = node(&mut g, "root", None);
    let timer = g
        .create_gobj::<GTimer>("timer", Some(root), Kw::new())
        .unwrap();
    let leaf = node(&mut g, "leaf", Some(root));
    assert_eq!(g.len(), 3);
    assert_eq!(g.name_of(timer), Some("timer"));
    assert_eq!(g.gclass_of(timer).map(|m| m.name()), Some("GTimer"));
    assert_eq!(g.gclass_of(leaf).map(|m| m.name()), Some("Node"));
    assert_eq!(g.state_of(timer), Some("ST_IDLE"));
    assert_eq!(g.parent_of(root), None);
    assert_eq!(g.parent_of(leaf), Some(root));
    assert_eq!(g.children_of(root).collect::<Vec<_>>(), [timer, leaf]);
    assert!(g.gobj::<Node>(timer).is_none(), "wrong gclass");
    assert!(g.gobj::<GTimer>(timer).is_some());
    assert_eq!(g.gobj_ids().collect::<Vec<_>>(), [root, timer, leaf]);
}

// ----- without a gaplic -------------------------------------------------------

gobj! {
    /// Tries to reach the world from an action.
    struct Loner {}
    events {
        EV_TRY: input { op: String },
        EV_NEWS: output,
    }
    states { ST_IDLE }
    machine { ST_IDLE { EV_TRY => try_op } }
}

impl Loner {
    fn try_op(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let op: String = ev.get("op")?;
        match op.as_str() {
            "send" => cx
                .send("pepe", "EV_TRY", Kw::new())
                .map(|sent| sent.into_value().unwrap_or_default()),
            "post" => cx.post("pepe", "EV_TRY", Kw::new()).map(|()| Value::Null),
            "broadcast" => cx
                .broadcast(LonerEvent::EV_NEWS, Kw::new())
                .map(|()| Value::Null),
            "subscribe" => cx
                .subscribe(GobjId::new(0, 0), None, SubscribeOptions::new())
                .map(|_| Value::Null),
            "create_child" => cx.create_child::<Loner>("kid", Kw::new()).map(Value::Gobj),
            "set_timer" => cx
                .set_timer(Duration::from_secs(1), "EV_TRY", Kw::new())
                .map(|_| Value::Null),
            "post_to_gaplic" => cx
                .post_to_gaplic("tree-no-such-gaplic", "pepe", "EV_TRY", Kw::new())
                .map(|()| Value::Null),
            "gaplic" => cx.gaplic().map(|g| Value::from(g.name())),
            _ => Err(GobjError::failed(format!("unknown op {op}"))),
        }
    }
}

const OPS: [&str; 8] = [
    "send",
    "post",
    "broadcast",
    "subscribe",
    "create_child",
    "set_timer",
    "post_to_gaplic",
    "gaplic",
];

/// GinsFSM raises `GObjError` when a gobj without a gaplic sends to `None`
/// or to "pepe", or posts. `None` is not an address in gaplic (the
/// destination is a `GobjId` or a `&str`, checked at compile time); a gobj
/// run by a bare `Machine` gets `NoGaplic` from everything that needs a
/// gaplic, and inside a gaplic the unknown name "pepe" is `UnknownGobj`.
#[test]
fn scenario_14_without_a_gaplic_a_gobj_reaches_nothing() {
    let mut loner = Machine::<Loner>::new("loner", &Kw::new()).unwrap();
    for op in OPS {
        let error = loner
            .inject(LonerEvent::EV_TRY, kw! { "op" => op })
            .unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::NoGaplic { gobj } if &**gobj == "loner"),
            "{op}: {error}"
        );
    }

    let mut g = gaplic("tree-14");
    let id = g.create_gobj::<Loner>("loner", None, Kw::new()).unwrap();
    for op in ["send", "post"] {
        let error = g
            .send(id, LonerEvent::EV_TRY, kw! { "op" => op })
            .unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::UnknownGobj { name } if name == "pepe"),
            "{op}: {error}"
        );
    }
    let error = g
        .send(id, LonerEvent::EV_TRY, kw! { "op" => "post_to_gaplic" })
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::UnknownGaplic { name } if name == "tree-no-such-gaplic"),
        "{error}"
    );
    assert_eq!(
        g.send(id, LonerEvent::EV_TRY, kw! { "op" => "gaplic" })
            .unwrap(),
        Value::from("tree-14")
    );
    let kid = g
        .send(id, LonerEvent::EV_TRY, kw! { "op" => "create_child" })
        .unwrap();
    let kid = GobjId::from_value(kid.value().unwrap()).unwrap();
    assert_eq!(g.children_of(id).collect::<Vec<_>>(), [kid]);
}
