//! The application file: what a good one reads as, and every error, each
//! with its file, line, column, key path and reason.

mod support;

use gaplic::app::{AppFile, Gclasses, LogFormat};
use gaplic::{Kw, Value};
use support::{Blinker, gclasses};
use tracing::level_filters::LevelFilter;

/// The errors of `text` (as `app.toml`), one line each.
fn errors(text: &str) -> Vec<String> {
    errors_with(text, &gclasses())
}

/// The errors of `text` read with the gclasses `gclasses`.
fn errors_with(text: &str, gclasses: &Gclasses) -> Vec<String> {
    match AppFile::parse(text, "app.toml", gclasses) {
        Ok(app) => panic!("no error; read as {app:?}"),
        Err(errors) => errors.errors().iter().map(ToString::to_string).collect(),
    }
}

/// The one error of `text`.
fn error(text: &str) -> String {
    let mut errors = errors(text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.remove(0)
}

fn parse(text: &str) -> AppFile {
    AppFile::parse(text, "app.toml", &gclasses()).unwrap_or_else(|e| panic!("{}", e.render()))
}

const HEAD: &str = "[application]\nname = \"test\"\n[main]\nname = \"main\"\n";

#[test]
fn a_full_file_reads_into_the_model() {
    let app = parse(
        r#"[application]
name = "lights"

[logging]
level = "debug"
filter = "gaplic=warn"
format = "pretty"

[settings]
count = 5
Blinker.label = "hall"
"porch.period" = 0.5

[main]
name = "house"
roles = ["lights", "hall"]
batch = 64

[[main.gobj]]
gclass = "Blinker"
name = "porch"
unique = true
attrs = { period = 2, tags = ["front", "door"], options = { color = "red", level = 3 } }

[[main.gobj]]
gclass = "GTimer"
name = "timer"
parent = "porch"
attrs = { seconds = 1.5, autostart = true }

[[thread]]
name = "garden"
stack_size = 1048576

[[thread.gobj]]
gclass = "Blinker"
name = "fountain"
"#,
    );
    assert_eq!(app.name, "lights");
    assert_eq!(app.logging.level, LevelFilter::DEBUG);
    assert_eq!(app.logging.filter.as_deref(), Some("gaplic=warn"));
    assert_eq!(app.logging.format, LogFormat::Pretty);
    assert_eq!(
        app.settings,
        Kw::new()
            .with("count", 5)
            .with("Blinker.label", "hall")
            .with("porch.period", 0.5)
    );
    assert_eq!(app.main.name, "house");
    assert_eq!(app.main.roles, ["lights", "hall"]);
    assert_eq!(app.main.batch, Some(64));
    assert_eq!(app.main.stack_size, None);
    let [porch, timer] = &app.main.gobjs[..] else {
        panic!("two gobjs: {:?}", app.main.gobjs);
    };
    assert_eq!(
        (porch.gclass.as_str(), porch.name.as_str()),
        ("Blinker", "porch")
    );
    assert!(porch.unique);
    assert_eq!(porch.parent, None);
    assert_eq!(
        porch.attrs,
        Kw::new()
            .with("period", 2)
            .with(
                "tags",
                Value::List(vec![Value::from("front"), Value::from("door")])
            )
            .with(
                "options",
                Value::Map(Kw::new().with("color", "red").with("level", 3))
            )
    );
    assert!(!timer.unique);
    assert_eq!(timer.parent, Some(0));
    assert_eq!(
        timer.attrs,
        Kw::new().with("seconds", 1.5).with("autostart", true)
    );
    let [garden] = &app.threads[..] else {
        panic!("one thread");
    };
    assert_eq!(garden.name, "garden");
    assert_eq!(garden.stack_size, Some(1_048_576));
    assert_eq!(garden.gobjs[0].name, "fountain");
    assert_eq!(
        app.gaplics().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        ["house", "garden"]
    );
}

#[test]
fn the_smallest_file_takes_the_defaults() {
    let app = parse(HEAD);
    assert_eq!(app.logging.level, LevelFilter::INFO);
    assert_eq!(app.logging.filter, None);
    assert_eq!(app.logging.format, LogFormat::Full);
    assert!(app.settings.is_empty());
    assert!(app.main.gobjs.is_empty() && app.main.roles.is_empty());
    assert!(app.threads.is_empty());
}

#[test]
fn toml_values_become_gaplic_values() {
    let app = parse(&format!(
        "{HEAD}[[main.gobj]]\ngclass = \"Blinker\"\nname = \"b\"\n\
         [main.gobj.attrs.options]\n\
         int = -7\nhex = 0xff\nbig = 18446744073709551615\nfloat = 6.5e-1\nunderscored = 1_000.5\n\
         inf = inf\ntext = 'raw \\n'\nyes = true\nlist = [1, \"two\", [3.0]]\ntable = {{ a = {{ b = false }} }}\n"
    ));
    let Value::Map(options) = app.main.gobjs[0].attrs.value("options").unwrap() else {
        panic!("options is a map");
    };
    assert_eq!(
        options.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        [
            "int",
            "hex",
            "big",
            "float",
            "underscored",
            "inf",
            "text",
            "yes",
            "list",
            "table"
        ],
        "in file order"
    );
    assert_eq!(options.value("int"), Some(&Value::Int(-7)));
    assert_eq!(options.value("hex"), Some(&Value::Int(255)));
    assert_eq!(options.value("big"), Some(&Value::Uint(u64::MAX)));
    assert_eq!(options.value("float"), Some(&Value::Float(0.65)));
    assert_eq!(options.value("underscored"), Some(&Value::Float(1000.5)));
    assert_eq!(options.value("inf"), Some(&Value::Float(f64::INFINITY)));
    assert_eq!(options.value("text"), Some(&Value::from("raw \\n")));
    assert_eq!(options.value("yes"), Some(&Value::Bool(true)));
    assert_eq!(
        options.value("list"),
        Some(&Value::List(vec![
            Value::Int(1),
            Value::from("two"),
            Value::List(vec![Value::Float(3.0)])
        ]))
    );
    assert_eq!(
        options.value("table"),
        Some(&Value::Map(
            Kw::new().with("a", Value::Map(Kw::new().with("b", false)))
        ))
    );
}

#[test]
fn a_datetime_is_refused_with_a_hint() {
    assert_eq!(
        error(&format!(
            "{HEAD}[[main.gobj]]\ngclass = \"Blinker\"\nname = \"b\"\nattrs = {{ options = {{ when = 1979-05-27T07:32:00Z }} }}\n"
        )),
        "app.toml:8:30: main.gobj[0].attrs.options.when: a datetime cannot be a gaplic value: \
         write it as a string (\"1979-05-27T07:32:00Z\")"
    );
}

#[test]
fn an_integer_past_64_bits_is_refused() {
    assert_eq!(
        error(&format!("{HEAD}[settings]\nhuge = 18446744073709551616\n")),
        "app.toml:6:8: settings.huge: integer 18446744073709551616 does not fit in 64 bits"
    );
}

#[test]
fn syntax_errors_are_all_reported_and_stop_the_reading() {
    assert_eq!(
        errors("[application]\nname = \"x\nvalue = = 3\n[main\n"),
        [
            "app.toml:2:10: TOML syntax: invalid basic string, expected `\"`",
            "app.toml:3:9: TOML syntax: extra `=`, expected nothing",
            "app.toml:3:11: TOML syntax: unexpected key or value, expected newline, `#`",
            "app.toml:4:6: TOML syntax: unclosed table, expected `]`",
        ],
        "every syntax error, and nothing else: what follows one is a guess of the parser"
    );
}

#[test]
fn a_missing_file_says_so() {
    let errors = AppFile::load("/nonexistent/app.toml", &gclasses()).unwrap_err();
    assert_eq!(
        errors.to_string(),
        "/nonexistent/app.toml: cannot read the application file: No such file or directory (os error 2)"
    );
}

#[test]
fn missing_sections_and_keys_are_named() {
    assert_eq!(
        errors(""),
        [
            "app.toml: missing section [application] (it gives the application's `name`)",
            "app.toml: missing section [main] (the main gaplic, run on the launcher's thread)",
        ]
    );
    assert_eq!(
        errors("[application]\n[main]\n[[main.gobj]]\nunique = true\n"),
        [
            "app.toml:1:1: application: missing key `name`",
            "app.toml:2:1: main: missing key `name` (the gaplic's name)",
            "app.toml:3:1: main.gobj[0]: missing key `gclass` (the gclass to create)",
            "app.toml:3:1: main.gobj[0]: missing key `name` (the gobj's name)",
        ]
    );
}

#[test]
fn unknown_sections_and_keys_list_those_that_exist() {
    assert_eq!(
        errors(&format!(
            "{HEAD}nmae = \"x\"\n[[main.gobj]]\ngclass = \"Blinker\"\nname = \"b\"\nattr = {{}}\n\
             [logging]\nlevl = \"info\"\n[mian]\n[[thread]]\nname = \"t\"\nstack = 1\n"
        )),
        [
            "app.toml:5:1: main.nmae: unknown key `nmae` (keys of [main]: name, roles, batch, router, gobj)",
            "app.toml:9:1: main.gobj[0].attr: unknown key `attr` (keys of a gobj: gclass, name, unique, parent, attrs)",
            "app.toml:11:1: logging.levl: unknown key `levl` (keys of [logging]: level, filter, format)",
            "app.toml:12:2: mian: unknown section `mian` (sections: application, logging, settings, main, thread, subprocess)",
            "app.toml:15:1: thread[0].stack: unknown key `stack` (keys of a [[thread]]: name, roles, batch, stack_size, router, gobj)",
        ]
    );
}

#[test]
fn http_is_reserved_and_routers_need_a_router_gclass() {
    // The built-in gclasses and `Blinker`, but no router.
    let mut without_router = Gclasses::empty();
    without_router.add::<gaplic::GTimer>().unwrap();
    without_router.add::<Blinker>().unwrap();
    assert_eq!(
        errors_with(
            &format!("{HEAD}[[subprocess]]\nname = \"p\"\n[router]\n[http]\n[main.router]\n"),
            &without_router
        ),
        [
            "app.toml:5:1: subprocess[0]: a subprocess talks to the main gaplic through their \
             routers, and no router gclass is registered: the application's binary registers one \
             with `Launcher::router` (`gaplic::router::GRouter`, registered by default with the `router` feature)",
            "app.toml:7:2: router: a router belongs to a gaplic: write [main.router], \
             [thread.router] (after its [[thread]]) or [subprocess.router] (after its [[subprocess]])",
            "app.toml:8:2: http: `[http]` is not available yet: serving HTTP comes in a later version",
            "app.toml:9:7: main.router: no router gclass is registered: the application's binary \
             registers one with `Launcher::router` (`gaplic::router::GRouter`, registered by default with the `router` feature)",
        ]
    );
}

#[test]
fn values_of_the_wrong_type_name_what_was_expected() {
    assert_eq!(
        errors(
            "[application]\nname = 3\n[main]\nname = \"\"\nroles = \"all\"\nbatch = 0\n\
             [[main.gobj]]\ngclass = \"Blinker\"\nname = \"b\"\nunique = \"yes\"\nattrs = [1]\n\
             [[thread]]\nname = \"t\"\nstack_size = 1024\n[main.gobj.x]\n"
        ),
        [
            "app.toml:2:8: application.name: expected a string, found an integer",
            "app.toml:4:8: main.name: a name cannot be empty",
            "app.toml:5:9: main.roles: expected an array of strings, found a string",
            "app.toml:6:9: main.batch: 0 is out of range, expected 1 to 4294967295",
            "app.toml:10:10: main.gobj[0].unique: expected a boolean, found a string",
            "app.toml:11:9: main.gobj[0].attrs: expected a table, found an array",
            "app.toml:14:14: thread[0].stack_size: 1024 is out of range, expected 65536 to 1073741824",
        ]
        .into_iter()
        .chain(std::iter::once(
            "app.toml:15:12: main.gobj[0].x: unknown key `x` (keys of a gobj: gclass, name, unique, parent, attrs)"
        ))
        .collect::<Vec<_>>()
    );
}

#[test]
fn a_list_written_as_one_table_gets_a_hint() {
    assert_eq!(
        error(&format!("{HEAD}[main.gobj]\ngclass = \"Blinker\"\n")),
        "app.toml:5:1: main.gobj: `main.gobj` is a list: write each entry as [[main.gobj]]"
    );
    assert_eq!(
        error(&format!("{HEAD}[thread]\nname = \"t\"\n")),
        "app.toml:5:1: thread: `thread` is a list: write each entry as [[thread]]"
    );
}

#[test]
fn logging_values_are_checked() {
    assert_eq!(
        errors(&format!(
            "{HEAD}[logging]\nlevel = \"loud\"\nfilter = \"gaplic=verbose\"\nformat = \"json\"\n"
        )),
        [
            "app.toml:6:9: logging.level: unknown level `loud` (levels: trace, debug, info, warn, error, off)",
            "app.toml:7:10: logging.filter: bad filter `gaplic=verbose`: error parsing level filter: \
             expected one of \"off\", \"error\", \"warn\", \"info\", \"debug\", \"trace\", or a number 0-5",
            "app.toml:8:10: logging.format: unknown format `json` (formats: full, compact, pretty)",
        ]
    );
}

#[test]
fn gclasses_and_attrs_are_checked_by_the_gclass() {
    assert_eq!(
        errors(&format!(
            "{HEAD}[[main.gobj]]\ngclass = \"Blinkr\"\nname = \"a\"\n\
             [[main.gobj]]\ngclass = \"Blinker\"\nname = \"b\"\n\
             attrs = {{ period = \"slow\", count = -1, colour = \"red\", tags = [1] }}\n"
        )),
        [
            "app.toml:6:10: main.gobj[0].gclass: unknown gclass `Blinkr` (registered: Blinker, GConnex, GRouter, GServerSock, GSock, GTimer)",
            "app.toml:11:20: main.gobj[1].attrs.period: bad attr of `Blinker`: key `period`: expected f64, found string",
            "app.toml:11:36: main.gobj[1].attrs.count: bad attr of `Blinker`: key `count`: expected u32, found int",
            "app.toml:11:40: main.gobj[1].attrs.colour: `Blinker` has no attr `colour` (its attrs: period, count, label, tags, options)",
            "app.toml:11:63: main.gobj[1].attrs.tags: bad attr of `Blinker`: key `tags`: expected list of strings, found list",
        ]
    );
}

#[test]
fn names_and_parents_are_checked() {
    let text = format!(
        "{HEAD}\
         [[main.gobj]]\ngclass = \"Blinker\"\nname = \"one\"\nunique = true\nparent = \"two\"\n\
         [[main.gobj]]\ngclass = \"Blinker\"\nname = \"two\"\n\
         [[main.gobj]]\ngclass = \"Blinker\"\nname = \"one\"\nunique = true\nparent = \"nobody\"\n\
         [[main.gobj]]\ngclass = \"Blinker\"\nname = \"self\"\nparent = \"self\"\n\
         [[thread]]\nname = \"main\"\n\
         [[thread.gobj]]\ngclass = \"Blinker\"\nname = \"twin\"\n\
         [[thread.gobj]]\ngclass = \"Blinker\"\nname = \"twin\"\n\
         [[thread.gobj]]\ngclass = \"Blinker\"\nname = \"kid\"\nparent = \"twin\"\n\
         [[thread.gobj]]\ngclass = \"Blinker\"\nname = \"one\"\nunique = true\n"
    );
    assert_eq!(
        errors(&text),
        [
            "app.toml:9:10: main.gobj[0].parent: parent `two` is listed after its child: move main.gobj[1] (line 10) before main.gobj[0]",
            "app.toml:15:8: main.gobj[2].name: unique name `one` is taken already by main.gobj[0] (line 7)",
            "app.toml:17:10: main.gobj[2].parent: unknown parent `nobody`: no gobj of main is named so",
            "app.toml:21:10: main.gobj[3].parent: a gobj cannot be its own parent",
            "app.toml:23:8: thread[0].name: gaplic name `main` is taken already by main (line 4)",
            "app.toml:33:10: thread[0].gobj[2].parent: ambiguous parent `twin`: thread[0].gobj[0], thread[0].gobj[1] are all named so",
        ]
    );
}

#[test]
fn settings_are_checked_where_they_can_be() {
    assert_eq!(
        errors(&format!(
            "{HEAD}[[main.gobj]]\ngclass = \"Blinker\"\nname = \"porch\"\n\
             [[main.gobj]]\ngclass = \"Blinker\"\nname = \"hall\"\n\
             [settings]\ncount = \"many\"\nBlinker.colour = \"red\"\n\"porch.period\" = false\n\
             porch.period = 1.0\n\"GTimer.\" = 1\nsomebody.anything = 1\nnothing = 2\n"
        )),
        [
            "app.toml:12:9: settings.count: for gobj `porch` (main.gobj[0]): bad attr of `Blinker`: key `count`: expected u32, found string",
            "app.toml:13:9: settings.Blinker.colour: `Blinker` has no attr `colour` (its attrs: period, count, label, tags, options)",
            "app.toml:14:18: settings.\"porch.period\": for gobj `porch` (main.gobj[0]): bad attr of `Blinker`: key `period`: expected f64, found bool",
            "app.toml:15:7: settings.porch.period: `porch.period` is set twice (first on line 14)",
            "app.toml:16:1: settings.\"GTimer.\": `GTimer.` is not `attr`, `Gclass.attr` or `gobj_name.attr`",
        ],
        "a scope that is not a gclass may be a gobj made at run time, and an \
         unscoped attr may be meant for one: those are not errors"
    );
}

#[test]
fn settings_win_over_attrs_and_are_checked_for_the_gobjs_they_reach() {
    // `count` is fine in the attrs; the setting wins, and a wrong one is
    // reported once, not once per gobj it reaches.
    let text = format!(
        "{HEAD}[[main.gobj]]\ngclass = \"Blinker\"\nname = \"a\"\nattrs = {{ count = 1 }}\n\
         [[main.gobj]]\ngclass = \"Blinker\"\nname = \"b\"\n\
         [settings]\ncount = 70000.5\n"
    );
    assert_eq!(
        errors(&text),
        [
            "app.toml:13:9: settings.count: for gobj `a` (main.gobj[0]): bad attr of `Blinker`: key `count`: expected u32, found float"
        ]
    );
}

#[test]
fn a_setting_scoped_to_a_gclass_is_checked_without_a_gobj_of_it() {
    // GTimers are often made at run time, as children: none is in the file.
    assert_eq!(
        error(&format!("{HEAD}[settings]\nGTimer.seconds = \"soon\"\n")),
        "app.toml:6:18: settings.GTimer.seconds: bad attr of `GTimer`: key `seconds`: expected f64, found string"
    );
    let app = parse(&format!(
        "{HEAD}[settings.GTimer]\nseconds = 2\nautostart = true\n"
    ));
    assert_eq!(
        app.settings,
        Kw::new()
            .with("GTimer.seconds", 2)
            .with("GTimer.autostart", true)
    );
}

#[test]
fn one_reading_reports_every_error_in_file_order() {
    let text = "[application]\nname = 1\n[main]\nname = \"m\"\nbatch = -3\n\
                [[main.gobj]]\ngclass = \"Nope\"\nname = \"x\"\nparent = \"y\"\n\
                [router]\n[logging]\nformat = \"fancy\"\n";
    let errors = AppFile::parse(text, "app.toml", &gclasses()).unwrap_err();
    assert_eq!(errors.len(), 6, "{errors}");
    let lines: Vec<usize> = errors
        .errors()
        .iter()
        .map(|e| e.position.unwrap().line)
        .collect();
    assert_eq!(lines, [2, 5, 7, 9, 10, 12]);
    let rendered = errors.render();
    assert!(
        rendered.contains("error: app.toml:7:10: main.gobj[0].gclass: unknown gclass `Nope`"),
        "{rendered}"
    );
    assert!(
        rendered.contains("\n7 | gclass = \"Nope\"\n  |          ^^^^^^\n"),
        "{rendered}"
    );
    assert!(rendered.ends_with("\n\n6 errors"), "{rendered}");
}
