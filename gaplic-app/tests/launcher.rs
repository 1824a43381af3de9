//! The launcher's commands run in-process with their output captured:
//! `check`, `gclasses`, `draw`, `status` and `stop`, and its usage errors.
//! (`serve` runs as a process: the facade's `tests/app_serve.rs`.)

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use gaplic::app::exit_code::{FAILURE, NOT_RUNNING, STALE, SUCCESS, UNKNOWN, USAGE};
use gaplic::app::{Launcher, draw};
use gaplic::{GTimer, Gclass};
use support::{Blinker, run, temp_file};

const GOOD: &str = r#"[application]
name = "lights"

[main]
name = "house"

[[main.gobj]]
gclass = "Blinker"
name = "porch"
unique = true

[[main.gobj]]
gclass = "GTimer"
name = "timer"
parent = "porch"

[[thread]]
name = "garden"
"#;

#[test]
fn check_accepts_a_good_file() {
    let path = temp_file("check-good", "app.toml", GOOD);
    let (code, out, err) = run(&["check", "-c", path.to_str().unwrap()]);
    assert_eq!((code, err.as_str()), (SUCCESS, ""));
    assert_eq!(
        out,
        format!(
            "{}: application `lights` is valid: 2 gaplic(s), 2 gobj(s)\n",
            path.display()
        )
    );
}

#[test]
fn check_reports_every_error_of_a_bad_file() {
    let bad = GOOD
        .replace("gclass = \"GTimer\"", "gclass = \"GTimr\"")
        .replace("unique = true", "unique = true\nattrs = { count = \"x\" }")
        .replace("name = \"garden\"", "name = \"house\"");
    let path = temp_file("check-bad", "app.toml", &bad);
    let (code, out, err) = run(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (FAILURE, ""));
    let file = path.display();
    for expected in [
        format!(
            "error: {file}:11:19: main.gobj[0].attrs.count: bad attr of `Blinker`: key `count`: expected u32, found string"
        ),
        format!("error: {file}:14:10: main.gobj[1].gclass: unknown gclass `GTimr`"),
        format!(
            "error: {file}:19:8: thread[0].name: gaplic name `house` is taken already by main (line 5)"
        ),
        "\n3 errors\n".to_owned(),
    ] {
        assert!(err.contains(&expected), "{expected:?} not in:\n{err}");
    }
    assert!(
        err.contains("\n14 | gclass = \"GTimr\"\n   |          ^^^^^^^\n"),
        "{err}"
    );
}

#[test]
fn check_of_a_missing_file_fails() {
    let (code, _, err) = run(&["check", "-c", "/nonexistent/app.toml"]);
    assert_eq!(code, FAILURE);
    assert!(
        err.starts_with("error: /nonexistent/app.toml: cannot read the application file: "),
        "{err}"
    );
}

#[test]
fn gclasses_lists_events_states_rows_and_attrs() {
    let (code, out, err) = run(&["gclasses", "Blinker"]);
    assert_eq!((code, err.as_str()), (SUCCESS, ""));
    let expected = "\
Blinker
  Blinks a lamp `count` times, every `period` seconds.
  events:
    EV_BLINK    input   top     { times: u32 }  Blink once.
    EV_BLINKED  output  bottom                  Published after each blink.
  states:
    ST_OFF  (initial)  Dark.
    ST_ON              Lit.
  machine:
    ST_OFF  EV_BLINK => blink -> ST_ON
    ST_ON   EV_BLINK -> ST_OFF
  attrs:
    period   f64          = 1.0                 Seconds between blinks.
    count    u32          = 3                   How many blinks.
    label    String       = \"\"                  What the lamp says.
    tags     Vec<String>  = Default::default()  Tags.
    options  Kw           = Default::default()  More options.
";
    assert_eq!(out, expected);
}

#[test]
fn gclasses_without_a_name_lists_every_registered_gclass() {
    let (code, out, _) = run(&["gclasses"]);
    assert_eq!(code, SUCCESS);
    let headers: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
        .collect();
    assert_eq!(
        headers,
        [
            "GTimer",
            "GSock",
            "GServerSock",
            "GConnex",
            "GRouter",
            "Blinker"
        ]
    );
    assert!(
        out.contains(
            "    EV_SET_TIMER  input   top     { seconds: Option<f64>, autostart: Option<bool> }"
        ),
        "{out}"
    );
    assert!(out.contains("    ST_ARMED  EV_FIRED => fire"), "{out}");
    assert!(
        out.contains(
            "    autostart           bool    = false         Re-arm after firing (a cyclic timer)."
        ),
        "{out}"
    );
}

#[test]
fn gclasses_of_an_unknown_name_fails() {
    let (code, out, err) = run(&["gclasses", "Lamp"]);
    assert_eq!((code, out.as_str()), (FAILURE, ""));
    assert_eq!(
        err,
        "test-app: unknown gclass `Lamp` (registered: Blinker, GConnex, GRouter, GServerSock, GSock, GTimer)\n"
    );
}

/// Compares `actual` with the committed file `tests/expected/NAME`
/// (rewritten instead when `GAPLIC_BLESS` is set).
fn assert_expected(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(name);
    if std::env::var_os("GAPLIC_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        actual, expected,
        "{name} changed; GAPLIC_BLESS=1 rewrites it"
    );
}

#[test]
fn draw_dot_and_mermaid_of_gtimer_match_the_committed_diagrams() {
    let (code, dot, err) = run(&["draw", "GTimer"]);
    assert_eq!((code, err.as_str()), (SUCCESS, ""));
    assert_expected("gtimer.dot", &dot);
    assert_eq!(dot, draw::dot(GTimer::META), "dot is the default format");
    let (code, mermaid, _) = run(&["draw", "GTimer", "--format", "mermaid"]);
    assert_eq!(code, SUCCESS);
    assert_expected("gtimer.mmd", &mermaid);
}

#[test]
fn draw_shows_moves_and_marks_the_initial_state() {
    let mermaid = draw::mermaid(Blinker::META);
    assert_eq!(
        mermaid,
        "stateDiagram-v2\n    [*] --> ST_OFF\n    ST_OFF\n    ST_ON\n    \
         ST_OFF --> ST_ON : EV_BLINK / blink\n    ST_ON --> ST_OFF : EV_BLINK\n"
    );
    let dot = draw::dot(Blinker::META);
    assert!(dot.contains("    \"[*]\" -> \"ST_OFF\";\n"), "{dot}");
    assert!(
        dot.contains("    \"ST_ON\" -> \"ST_OFF\" [label=\"EV_BLINK\"];\n"),
        "{dot}"
    );
}

#[test]
fn draw_writes_to_a_file() {
    let path = temp_file("draw-output", "blinker.mmd", "");
    let (code, out, err) = run(&[
        "draw",
        "Blinker",
        "--format",
        "mermaid",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!((code, out.as_str(), err.as_str()), (SUCCESS, "", ""));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        draw::mermaid(Blinker::META)
    );
}

#[test]
fn draw_svg_goes_through_graphviz_when_it_is_there() {
    let has_dot = Command::new("dot").arg("-V").output().is_ok();
    let (code, out, err) = run(&["draw", "GTimer", "--format", "svg"]);
    if has_dot {
        assert_eq!((code, err.as_str()), (SUCCESS, ""));
        assert!(out.contains("<svg"), "{out}");
        assert!(out.contains("ST_ARMED"), "{out}");
    } else {
        assert_eq!((code, out.as_str()), (FAILURE, ""));
        assert_eq!(
            err,
            "test-app: cannot draw `GTimer`: drawing SVG needs Graphviz's `dot` program, \
             which is not on PATH (install Graphviz, or draw with --format dot or mermaid)\n"
        );
    }
}

#[test]
fn draw_of_an_unknown_gclass_fails() {
    let (code, _, err) = run(&["draw", "GTimr"]);
    assert_eq!(code, FAILURE);
    assert!(
        err.starts_with("test-app: unknown gclass `GTimr` (registered: "),
        "{err}"
    );
}

#[test]
fn a_bad_command_line_is_a_usage_error() {
    let (code, out, err) = run(&["serve"]);
    assert_eq!((code, out.as_str()), (USAGE, ""));
    assert!(err.contains("--config <FILE>"), "{err}");
    let (code, _, err) = run(&["draw", "GTimer", "--format", "png"]);
    assert_eq!(code, USAGE);
    assert!(err.contains("invalid value 'png'"), "{err}");
    let (code, _, err) = run(&["serve", "-c", "a.toml", "--stop-timeout", "0"]);
    assert_eq!(code, USAGE);
    assert!(err.contains("a number of seconds must be above 0"), "{err}");
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, SUCCESS);
    for command in ["serve", "stop", "status", "check", "gclasses", "draw"] {
        assert!(
            out.contains(&format!("  {command} ")),
            "{command} in:\n{out}"
        );
    }
}

#[test]
fn a_gclass_registered_twice_fails_every_command() {
    let launcher = Launcher::new("twice")
        .gclass::<Blinker>()
        .gclass::<Blinker>();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = launcher.run_with_output(["twice", "gclasses"], &mut out, &mut err);
    assert_eq!(code, FAILURE);
    assert!(out.is_empty());
    assert_eq!(
        String::from_utf8(err).unwrap(),
        "twice: gclass `Blinker` is registered twice\n"
    );
}

#[test]
fn status_tells_running_stale_absent_and_unreadable_apart() {
    let path = temp_file("status", "app.pid", "");
    let file = path.to_str().unwrap();

    std::fs::write(&path, format!("{}\n", std::process::id())).unwrap();
    let (code, out, _) = run(&["status", "--pid-file", file]);
    assert_eq!(
        (code, out),
        (SUCCESS, format!("running (pid {})\n", std::process::id()))
    );

    let mut gone = Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    std::fs::write(&path, format!("{gone_pid}\n")).unwrap();
    let (code, out, _) = run(&["status", "--pid-file", file]);
    assert_eq!(code, STALE);
    assert_eq!(
        out,
        format!("not running: stale pid file {file} (process {gone_pid} is gone)\n")
    );

    std::fs::write(&path, "twelve\n").unwrap();
    let (code, _, err) = run(&["status", "--pid-file", file]);
    assert_eq!(code, UNKNOWN);
    assert_eq!(
        err,
        format!("test-app: cannot tell: pid file {file}: it holds `twelve`, not a process id\n")
    );

    std::fs::remove_file(&path).unwrap();
    let (code, out, _) = run(&["status", "--pid-file", file]);
    assert_eq!(
        (code, out),
        (NOT_RUNNING, format!("not running (no pid file {file})\n"))
    );
}

#[test]
fn stop_terminates_the_process_and_waits_for_its_end() {
    let path = temp_file("stop", "app.pid", "");
    let file = path.to_str().unwrap();
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = sleeper.id();
    std::fs::write(&path, format!("{pid}\n")).unwrap();
    let started = Instant::now();
    // The sleeper stays a zombie until it is waited for: stop must see
    // that it ended all the same.
    let (code, out, err) = run(&["stop", "--pid-file", file, "--timeout", "10"]);
    assert_eq!((code, err.as_str()), (SUCCESS, ""));
    assert_eq!(out, format!("stopped (pid {pid})\n"));
    assert!(started.elapsed() < Duration::from_secs(5));
    let status = sleeper.wait().unwrap();
    assert!(!status.success(), "it was killed by SIGTERM: {status}");

    // Now the pid file is stale: stop says so and removes it.
    let (code, out, _) = run(&["stop", "--pid-file", file]);
    assert_eq!(code, SUCCESS);
    assert_eq!(
        out,
        format!("not running: stale pid file {file} (process {pid} is gone); removed it\n")
    );
    assert!(!path.exists());
    let (code, out, _) = run(&["stop", "--pid-file", file]);
    assert_eq!(
        (code, out),
        (SUCCESS, format!("not running (no pid file {file})\n"))
    );
}

#[test]
fn the_readme_shows_the_current_drawing_of_gconnex() {
    let readme = include_str!("../../README.md");
    let start = readme.find("```mermaid\n").expect("a mermaid block") + "```mermaid\n".len();
    let block = &readme[start..start + readme[start..].find("```").expect("its end")];
    assert_eq!(
        block,
        draw::mermaid(gaplic::GConnex::META),
        "README.md's diagram is stale: `cargo run --example app -- draw GConnex --format mermaid` draws it"
    );
}

/// The rules of attrs (`#[attr(range = ..)]`, `validate`) are the
/// gclass's own: `check` finds a value they refuse without running it.
#[test]
fn check_applies_the_rules_of_attrs() {
    let file = r#"[application]
name = "rules"

[main]
name = "rules"

[[main.gobj]]
gclass = "GServerSock"
name = "server"
attrs = { address = "127.0.0.1:0", tx_limit = 0, idle_timeout = -1.0 }

[[main.gobj]]
gclass = "GTimer"
name = "timer"
attrs = { seconds = 1e300 }
"#;
    let path = temp_file("check-rules", "app.toml", file);
    let (code, _, err) = run(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, FAILURE, "{err}");
    for expected in [
        "bad attr of `GServerSock`: key `tx_limit`: 0 is out of range, expected 1..=1_073_741_824",
        "bad attr of `GTimer`: key `seconds`: 1e300 refused: expected a number of seconds up to 3153600000",
    ] {
        assert!(err.contains(expected), "{expected:?} not in:\n{err}");
    }
}
