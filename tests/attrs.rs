//! Attrs at run time: read, written, reset and listed by name on a live
//! gobj, checked against their type and rules as at creation; dotted
//! settings applied to a subtree; the precedence of defaults, creation
//! keywords and global settings.

use gaplic::prelude::*;
use gaplic::{AttrValue, KwError};

/// Refuses odd numbers of workers.
fn even(workers: &u32) -> Result<(), String> {
    if workers.is_multiple_of(2) {
        Ok(())
    } else {
        Err("workers come in pairs".to_owned())
    }
}

gobj! {
    /// A configurable service.
    struct Service {
        /// TCP port to listen on.
        #[attr(default = 8080, range = 1..=65535)]
        port: u32,
        /// How loudly it logs.
        #[attr(default = "info", one_of = ["error", "warn", "info", "debug"])]
        level: String,
        /// Worker threads.
        #[attr(default = 2, range = 1..=64, validate = even)]
        workers: u32,
        /// A label, free text.
        #[attr]
        label: String,
        started: bool,
    }
    events { EV_PEEK }
    states { ST_IDLE }
    machine { ST_IDLE { EV_PEEK => peek } }
}

impl Service {
    /// From inside its own action a gobj reaches its attrs through its
    /// fields; the gaplic says it is busy.
    fn peek(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.started = true;
        let me = cx.id().expect("in a gaplic");
        let error = cx.gaplic()?.attr(me, "port").unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Busy { .. }), "{error}");
        Ok(Value::from(self.port))
    }
}

fn gaplic(name: &str) -> Gaplic {
    Gaplic::builder(name).virtual_clock().build().unwrap()
}

fn bad_attr(error: &GobjError) -> &KwError {
    match error.kind() {
        ErrorKind::BadAttr {
            gclass: "Service",
            error,
        } => error,
        _ => panic!("expected a bad attr of Service, got {error}"),
    }
}

#[test]
fn attrs_are_read_written_and_reset_by_name() {
    let mut g = gaplic("attrs-rw");
    let s = g
        .create_gobj::<Service>("svc", None, kw! { "port" => 9000 })
        .unwrap();
    assert_eq!(g.attr(s, "port").unwrap(), Value::from(9000));
    assert_eq!(g.attr(s, "level").unwrap(), Value::from("info"));
    g.set_attr(s, "port", 9001).unwrap();
    g.set_attr(s, "level", "debug").unwrap();
    assert_eq!(g.gobj::<Service>(s).unwrap().port, 9001);
    assert_eq!(g.gobj::<Service>(s).unwrap().level, "debug");
    g.reset_attr(s, "port").unwrap();
    assert_eq!(g.attr(s, "port").unwrap(), Value::from(8080), "the default");

    let error = g.attr(s, "started").unwrap_err();
    assert_eq!(error.to_string(), "`Service` has no attr `started`");
    assert!(g.set_attr(s, "nope", 1).is_err());
    assert!(g.reset_attr(s, "nope").is_err());
    assert_eq!(
        g.send(s, ServiceEvent::EV_PEEK, Kw::new()).unwrap(),
        Value::from(8080)
    );

    g.destroy_gobj(s).unwrap();
    assert!(g.attr(s, "port").unwrap_err().is_destroyed());
}

#[test]
fn a_write_is_checked_as_at_creation_and_a_refused_one_changes_nothing() {
    let mut g = gaplic("attrs-checked");
    let s = g.create_gobj::<Service>("svc", None, Kw::new()).unwrap();
    let cases: [(&str, Value, &str); 5] = [
        (
            "port",
            Value::from("80"),
            "bad attr of `Service`: key `port`: expected u32, found string",
        ),
        (
            "port",
            Value::from(0),
            "bad attr of `Service`: key `port`: 0 is out of range, expected 1..=65535",
        ),
        (
            "level",
            Value::from("loud"),
            "bad attr of `Service`: key `level`: \"loud\" is out of range, expected one of \
             [\"error\", \"warn\", \"info\", \"debug\"]",
        ),
        (
            "workers",
            Value::from(3),
            "bad attr of `Service`: key `workers`: 3 refused: workers come in pairs",
        ),
        (
            "workers",
            Value::from(80),
            "bad attr of `Service`: key `workers`: 80 is out of range, expected 1..=64",
        ),
    ];
    for (attr, value, message) in cases {
        let error = g.set_attr(s, attr, value.clone()).unwrap_err();
        assert_eq!(error.to_string(), message);
        bad_attr(&error);
        // The same error at creation.
        let created = g
            .create_gobj::<Service>("again", None, Kw::new().with(attr, value))
            .unwrap_err();
        assert_eq!(created.to_string(), message);
    }
    let service = g.gobj::<Service>(s).unwrap();
    assert_eq!(
        (service.port, service.level.as_str(), service.workers),
        (8080, "info", 2),
        "nothing changed"
    );
    assert_eq!(g.len(), 1, "nothing was created");
}

#[test]
fn attrs_are_listed_with_their_declaration_and_value() {
    let mut g = gaplic("attrs-list");
    let s = g
        .create_gobj::<Service>("svc", None, kw! { "label" => "front" })
        .unwrap();
    let attrs = g.attrs(s).unwrap();
    let shown: Vec<(&str, &str, &str, &str, Value)> = attrs
        .iter()
        .map(|AttrValue { meta, value }| {
            (
                meta.name(),
                meta.ty(),
                meta.default(),
                meta.rules(),
                value.clone(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("port", "u32", "8080", "range 1..=65535", Value::from(8080)),
            (
                "level",
                "String",
                "\"info\"",
                "one of [\"error\", \"warn\", \"info\", \"debug\"]",
                Value::from("info")
            ),
            (
                "workers",
                "u32",
                "2",
                "range 1..=64; validate even",
                Value::from(2)
            ),
            (
                "label",
                "String",
                "Default::default()",
                "",
                Value::from("front")
            ),
        ]
    );
    assert_eq!(attrs[0].meta.doc(), "TCP port to listen on.");
}

gobj! {
    /// A node of a tree, with two attrs.
    struct Node {
        #[attr(default = 1)]
        weight: i64,
        #[attr(default = "")]
        tag: String,
    }
    events { EV_NOTHING }
    states { ST_IDLE }
    machine { ST_IDLE { EV_NOTHING } }
}

/// root -> (a -> a1, b); and a `Service` beside them under root.
fn tree(g: &mut Gaplic) -> [GobjId; 5] {
    let root = g.create_gobj::<Node>("root", None, Kw::new()).unwrap();
    let a = g.create_gobj::<Node>("a", Some(root), Kw::new()).unwrap();
    let a1 = g.create_gobj::<Node>("a1", Some(a), Kw::new()).unwrap();
    let b = g.create_gobj::<Node>("b", Some(root), Kw::new()).unwrap();
    let svc = g
        .create_gobj::<Service>("svc", Some(root), Kw::new())
        .unwrap();
    [root, a, a1, b, svc]
}

fn weights(g: &Gaplic, ids: &[GobjId]) -> Vec<i64> {
    ids.iter()
        .map(|id| g.gobj::<Node>(*id).unwrap().weight)
        .collect()
}

/// GinsFSM's `overwrite_parameters(level, **settings)`: level 0 is the
/// gobj alone, n goes n levels down (its documented -1, "all", reached no
/// child; `usize::MAX` here reaches the whole subtree).
#[test]
fn dotted_settings_are_applied_to_a_subtree_down_to_a_depth() {
    let mut g = gaplic("attrs-overwrite");
    let [root, a, a1, b, svc] = tree(&mut g);
    let nodes = [root, a, a1, b];

    assert_eq!(
        g.overwrite_attrs(root, 0, &kw! { "weight" => 5 }).unwrap(),
        1
    );
    assert_eq!(weights(&g, &nodes), [5, 1, 1, 1]);

    assert_eq!(
        g.overwrite_attrs(root, 1, &kw! { "Node.weight" => 6 })
            .unwrap(),
        3
    );
    assert_eq!(weights(&g, &nodes), [6, 6, 1, 6]);

    let written = g
        .overwrite_attrs(
            root,
            usize::MAX,
            &kw! { "GObj.weight" => 7, "a.weight" => 8 },
        )
        .unwrap();
    assert_eq!(written, 5, "four nodes, and `a` once more");
    assert_eq!(
        weights(&g, &nodes),
        [7, 8, 7, 7],
        "the later key wins for a"
    );

    // A gclass without the attr is left alone; one with it is written.
    assert_eq!(
        g.overwrite_attrs(root, usize::MAX, &kw! { "port" => 9090 })
            .unwrap(),
        1
    );
    assert_eq!(g.gobj::<Service>(svc).unwrap().port, 9090);

    // A refusal leaves its attr alone, the rest are applied, and the first
    // refusal comes back.
    let error = g
        .overwrite_attrs(
            root,
            usize::MAX,
            &kw! { "Service.port" => 0, "tag" => "x", "Node.weight" => "heavy" },
        )
        .unwrap_err();
    assert!(error.to_string().contains("key `weight`"), "{error}");
    assert_eq!(g.gobj::<Service>(svc).unwrap().port, 9090);
    assert!(nodes.iter().all(|n| g.gobj::<Node>(*n).unwrap().tag == "x"));
}

/// Defaults < creation keywords < global dotted settings (the settings
/// win, as in GinsFSM); among settings for the same attr, the later wins.
#[test]
fn precedence_is_defaults_then_keywords_then_global_settings() {
    let mut g = Gaplic::builder("attrs-precedence")
        .virtual_clock()
        .settings(kw! { "Service.port" => 7000, "svc2.port" => 7002 })
        .build()
        .unwrap();
    let defaults = g.create_gobj::<Node>("n", None, Kw::new()).unwrap();
    assert_eq!(g.gobj::<Node>(defaults).unwrap().weight, 1);
    let keyword = g
        .create_gobj::<Node>("n", None, kw! { "weight" => 3 })
        .unwrap();
    assert_eq!(g.gobj::<Node>(keyword).unwrap().weight, 3);
    let svc1 = g
        .create_gobj::<Service>("svc1", None, kw! { "port" => 1 })
        .unwrap();
    assert_eq!(
        g.gobj::<Service>(svc1).unwrap().port,
        7000,
        "the setting wins"
    );
    let svc2 = g.create_gobj::<Service>("svc2", None, Kw::new()).unwrap();
    assert_eq!(
        g.gobj::<Service>(svc2).unwrap().port,
        7002,
        "the later key wins"
    );
    // Settings are checked like anything else.
    g.set_settings(kw! { "Service.workers" => 5 });
    let error = g
        .create_gobj::<Service>("svc3", None, Kw::new())
        .unwrap_err();
    assert!(
        error.to_string().contains("workers come in pairs"),
        "{error}"
    );
}
