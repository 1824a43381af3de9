//! What the tests of gaplic-app share: a gclass with attrs of every kind,
//! and the launcher that registers it.
#![allow(dead_code)]

use gaplic::app::{Gclasses, Launcher};
use gaplic::prelude::*;

gobj! {
    /// Blinks a lamp `count` times, every `period` seconds.
    pub struct Blinker {
        /// Seconds between blinks.
        #[attr(default = 1.0)]
        period: f64,
        /// How many blinks.
        #[attr(default = 3)]
        count: u32,
        /// What the lamp says.
        #[attr(default = "")]
        label: String,
        /// Tags.
        #[attr]
        tags: Vec<String>,
        /// More options.
        #[attr]
        options: Kw,
    }
    events {
        /// Blink once.
        EV_BLINK: input top { times: u32 },
        /// Published after each blink.
        EV_BLINKED: output bottom,
    }
    states {
        /// Dark.
        ST_OFF,
        /// Lit.
        ST_ON,
    }
    machine {
        ST_OFF { EV_BLINK => blink -> ST_ON }
        ST_ON { EV_BLINK -> ST_OFF }
    }
}

impl Blinker {
    fn blink(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::Null)
    }
}

/// The built-in gclasses and `Blinker`.
pub fn gclasses() -> Gclasses {
    let mut gclasses = Gclasses::new();
    gclasses.add::<Blinker>().unwrap();
    gclasses
}

/// The launcher of the tests, with `Blinker`.
pub fn launcher() -> Launcher {
    Launcher::new("test-app").gclass::<Blinker>()
}

/// Runs `args` (after the program's name); the exit code, standard output
/// and standard error.
pub fn run(args: &[&str]) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let all = std::iter::once("test-app").chain(args.iter().copied());
    let code = launcher().run_with_output(all, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// A file of its own for one test, in the system's temporary directory.
pub fn temp_file(test: &str, name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gaplic-app-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}
