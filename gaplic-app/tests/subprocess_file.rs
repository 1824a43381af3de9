//! `[….router]` and `[[subprocess]]` in the application file: what a good
//! one reads as, what the launcher adds for the link between the
//! processes, and every error, with its file, line, column, key path and
//! reason.

mod support;

use std::time::Duration;

use gaplic::Kw;
use gaplic::app::{AppFile, Gclasses, Restart, SubprocessSpec};
use gaplic::router::GRouter;

/// The test gclasses and `GRouter` as the router.
fn gclasses() -> Gclasses {
    let mut gclasses = support::gclasses();
    gclasses.set_router::<GRouter>().unwrap();
    gclasses
}

fn parse(text: &str) -> AppFile {
    AppFile::parse(text, "app.toml", &gclasses()).unwrap_or_else(|e| panic!("{}", e.render()))
}

/// The errors of `text` (as `app.toml`), one line each.
fn errors(text: &str) -> Vec<String> {
    match AppFile::parse(text, "app.toml", &gclasses()) {
        Ok(app) => panic!("no error; read as {app:?}"),
        Err(errors) => errors.errors().iter().map(ToString::to_string).collect(),
    }
}

const HEAD: &str = "[application]\nname = \"test\"\n";

#[test]
fn subprocesses_and_routers_read_into_the_model() {
    let app = parse(
        r#"[application]
name = "plant"

[main]
name = "control"
roles = ["boss"]

[main.router]
secret = "s3"
queue_limit = 64

[[thread]]
name = "side"

[thread.router]
server = true
listen = "127.0.0.1:0"

[[subprocess]]
name = "press"
roles = ["worker", "press"]
batch = 32
restart = "on-failure"
restart_delay = 0.25
max_restart_delay = 4
max_restarts = 7
reset_after = 120
stop_timeout = 2.5
link_timeout = 3

[subprocess.router]
window = 16

[[subprocess.gobj]]
gclass = "Blinker"
name = "lamp"

[[subprocess]]
name = "oven"
restart_delay = 90
"#,
    );
    assert_eq!(
        app.main.router,
        Some(
            Kw::new()
                .with("secret", "s3")
                .with("queue_limit", 64)
                .with("server", true)
        ),
        "the subprocesses dial the main router: it serves"
    );
    assert_eq!(
        app.threads[0].router,
        Some(Kw::new().with("server", true).with("listen", "127.0.0.1:0"))
    );
    assert_eq!(app.subprocesses.len(), 2);
    let press = &app.subprocesses[0];
    assert_eq!(press.gaplic.name, "press");
    assert_eq!(press.gaplic.roles, ["worker", "press"]);
    assert_eq!(press.gaplic.batch, Some(32));
    assert_eq!(press.gaplic.gobjs.len(), 1);
    assert_eq!(
        press.gaplic.router,
        Some(Kw::new().with("window", 16).with("secret", "s3")),
        "the main router's secret, unless its own"
    );
    assert_eq!(press.restart, Restart::OnFailure);
    assert_eq!(press.restart_delay, Duration::from_millis(250));
    assert_eq!(press.max_restart_delay, Duration::from_secs(4));
    assert_eq!(press.max_restarts, 7);
    assert_eq!(press.reset_after, Duration::from_secs(120));
    assert_eq!(press.stop_timeout, Duration::from_millis(2500));
    assert_eq!(press.link_timeout, Duration::from_secs(3));
    let oven = &app.subprocesses[1];
    assert_eq!(oven.restart, Restart::Never);
    assert_eq!(oven.restart_delay, Duration::from_secs(90));
    assert_eq!(
        oven.max_restart_delay,
        Duration::from_secs(90),
        "at least the first delay"
    );
    assert_eq!(oven.max_restarts, SubprocessSpec::DEFAULT_MAX_RESTARTS);
    assert_eq!(oven.reset_after, SubprocessSpec::DEFAULT_RESET_AFTER);
    assert_eq!(oven.stop_timeout, SubprocessSpec::DEFAULT_STOP_TIMEOUT);
    assert_eq!(oven.link_timeout, SubprocessSpec::DEFAULT_LINK_TIMEOUT);
    assert_eq!(
        oven.gaplic.router,
        Some(Kw::new().with("secret", "s3")),
        "a subprocess always has a router"
    );
    let names: Vec<&str> = app.gaplics().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["control", "side", "press", "oven"]);
    assert_eq!(
        app.subprocess("oven").map(|s| s.gaplic.gobjs.len()),
        Some(0)
    );
    assert!(app.subprocess("control").is_none());
}

#[test]
fn without_subprocesses_and_router_sections_no_router_is_made() {
    let app = parse(&format!("{HEAD}[main]\nname = \"m\"\n"));
    assert_eq!(app.main.router, None);
    let app = parse(&format!(
        "{HEAD}[main]\nname = \"m\"\n[main.router]\nserver = false\n"
    ));
    assert_eq!(
        app.main.router,
        Some(Kw::new().with("server", false)),
        "without subprocesses, a router may dial only"
    );
}

#[test]
fn router_keys_are_checked_against_the_router_gclass_attrs() {
    let errors = errors(&format!(
        "{HEAD}[main]\nname = \"m\"\n[main.router]\nservr = true\nqueue_limit = 0\n\
         window = \"wide\"\nroutes = \"a, ws://h:1\"\n"
    ));
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(
        errors[0].starts_with(
            "app.toml:6:1: main.router.servr: `GRouter` has no attr `servr` (its attrs: static_routes, routes, server, listen, "
        ),
        "{}",
        errors[0]
    );
    assert_eq!(
        errors[1..],
        [
            "app.toml:7:15: main.router.queue_limit: bad attr of `GRouter`: key `queue_limit`: 0 is out of range, expected 1..=1_000_000",
            "app.toml:8:10: main.router.window: bad attr of `GRouter`: key `window`: expected u64, found string",
            "app.toml:9:10: main.router.routes: bad attr of `GRouter`: key `routes`: expected list of strings, found string",
        ]
    );
}

#[test]
fn subprocess_keys_are_checked() {
    assert_eq!(
        errors(&format!(
            "{HEAD}[main]\nname = \"m\"\n\
             [[subprocess]]\nrestart = \"always\"\nrestart_delay = -1\nmax_restarts = -2\n\
             stop_timeout = \"soon\"\nlink_timeout = 0\nstack_size = 65536\n\
             [[subprocess]]\nname = \"s\"\nrestart_delay = 10\nmax_restart_delay = 5\n\
             reset_after = 0\n\
             [[subprocess.gobj]]\ngclass = \"Blinkr\"\nname = \"b\"\n"
        )),
        [
            "app.toml:5:1: subprocess[0]: missing key `name` (the gaplic's name)",
            "app.toml:6:11: subprocess[0].restart: unknown restart policy `always` (policies: never, on-failure)",
            "app.toml:7:17: subprocess[0].restart_delay: out of range: expected 0 to 3600 seconds",
            "app.toml:8:16: subprocess[0].max_restarts: -2 is out of range, expected 0 to 1000000",
            "app.toml:9:16: subprocess[0].stop_timeout: expected a number of seconds, found a string",
            "app.toml:10:16: subprocess[0].link_timeout: out of range: expected 0.01 to 3600 seconds",
            "app.toml:11:1: subprocess[0].stack_size: unknown key `stack_size` (keys of a [[subprocess]]: \
             name, roles, batch, restart, restart_delay, max_restart_delay, max_restarts, reset_after, \
             stop_timeout, link_timeout, router, gobj)",
            "app.toml:15:21: subprocess[1].max_restart_delay: the longest delay between restarts (5 s) \
             is shorter than the first (restart_delay = 10 s)",
            "app.toml:16:15: subprocess[1].reset_after: out of range: expected 0.01 to 86400 seconds",
            "app.toml:18:10: subprocess[1].gobj[0].gclass: unknown gclass `Blinkr` (registered: \
             Blinker, GConnex, GRouter, GServerSock, GSock, GTimer)",
        ]
    );
}

#[test]
fn the_link_between_the_processes_is_kept_whole() {
    assert_eq!(
        errors(
            r#"[application]
name = "test"

[settings]
GRouter.routes = ["elsewhere, ws://127.0.0.1:9"]
"router.server" = false

[main]
name = "the main"
roles = ["^boss", "a+b"]

[main.router]
server = false
secret = "one"

[[main.gobj]]
gclass = "Blinker"
name = "router"
unique = true

[[main.gobj]]
gclass = "Blinker"
name = "subprocess.w"
unique = true

[[thread]]
name = "w"

[[subprocess]]
name = "w"

[subprocess.router]
secret = "two"
"#
        ),
        [
            "app.toml:5:9: settings.GRouter.routes: reaches `routes` of the router of \
             subprocess[0]: the launcher adds the route to the main gaplic to a subprocess's \
             `routes`, which a setting would replace; set it in the [subprocess.router] of \
             subprocess[0] instead",
            "app.toml:6:1: settings.\"router.server\": reaches `server` of the main gaplic's \
             router: the subprocesses dial it, so it serves; set it in [main.router] instead",
            "app.toml:9:8: main.name: the name of a gaplic with a router cannot hold spaces, `,` or \
             `+`: routes are written `name, role1+role2, url` and a gaplic is known by the first word \
             of its name",
            "app.toml:10:10: main.roles[0]: a role of a gaplic with a router cannot start with `=`, \
             `^` or `*`: identity cards use those for tokens and the roles of other routes",
            "app.toml:10:19: main.roles[1]: a role of a gaplic with a router cannot hold spaces, `,` \
             or `+`: routes are written `name, role1+role2, url`",
            "app.toml:13:10: main.router.server: cannot be false with [[subprocess]] entries: the \
             subprocesses dial the main gaplic's router, so it serves",
            "app.toml:18:8: main.gobj[0].name: unique name `router` is taken already by the \
             gaplic's router ([main.router])",
            "app.toml:23:8: main.gobj[1].name: unique name `subprocess.w` is taken already by the \
             `GSubprocess` of subprocess `w` (subprocess[0])",
            "app.toml:30:8: subprocess[0].name: gaplic name `w` is taken already by thread[0] (line 27)",
            "app.toml:33:10: subprocess[0].router.secret: differs from the `secret` of [main.router]: \
             the subprocess could not open its link to the main gaplic (leave it out: the main \
             router's is used)",
        ]
    );
}

#[test]
fn check_counts_the_subprocesses_and_reports_their_errors() {
    let launcher = support::launcher().router::<GRouter>();
    let run = |file: &std::path::Path| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let args = ["test-app", "check", "-c", file.to_str().unwrap()];
        let code = launcher.run_with_output(args, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    };
    let good = support::temp_file(
        "check-subprocesses",
        "good.toml",
        &format!(
            "{HEAD}[main]\nname = \"m\"\n[[subprocess]]\nname = \"a\"\n[[subprocess]]\nname = \"b\"\n\
             [[subprocess.gobj]]\ngclass = \"Blinker\"\nname = \"lamp\"\n"
        ),
    );
    assert_eq!(
        run(&good),
        (
            0,
            format!(
                "{}: application `test` is valid: 3 gaplic(s) (2 in subprocesses), 1 gobj(s)\n",
                good.display()
            ),
            String::new()
        )
    );
    let bad = support::temp_file(
        "check-subprocesses",
        "bad.toml",
        &format!(
            "{HEAD}[main]\nname = \"m\"\n[[subprocess]]\nname = \"a\"\nrestart = \"sometimes\"\n\
             [subprocess.router]\nwindow = 0\n"
        ),
    );
    let (code, out, err) = run(&bad);
    assert_eq!((code, out.as_str()), (1, ""));
    let path = bad.display();
    assert_eq!(
        err,
        format!(
            "error: {path}:7:11: subprocess[0].restart: unknown restart policy `sometimes` (policies: never, on-failure)\n  \
             |\n7 | restart = \"sometimes\"\n  |           ^^^^^^^^^^^\n\n\
             error: {path}:9:10: subprocess[0].router.window: bad attr of `GRouter`: key `window`: 0 is out of range, expected 1..=65_536\n  \
             |\n9 | window = 0\n  |          ^\n\n2 errors\n"
        )
    );
}
