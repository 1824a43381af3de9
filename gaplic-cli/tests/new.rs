//! `gaplic new` as a process: the project it writes, and its refusals.
//! (CI builds a generated project and runs its tests: `.ci/run`.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh directory for one test.
fn test_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gaplic-new-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `gaplic` with `args` in `dir`.
fn gaplic(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gaplic"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The workspace, which holds the `gaplic` crate.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .canonicalize()
        .unwrap()
}

#[test]
fn new_writes_a_project_with_a_path_dependency() {
    let dir = test_dir("path");
    let gaplic_path = workspace();
    let output = gaplic(
        &dir,
        &[
            "new",
            "blinky-lights",
            "--gaplic-path",
            gaplic_path.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let project = dir.join("blinky-lights");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("Created the gaplic application `blinky-lights` in blinky-lights\n"),
        "{stdout}"
    );
    let read = |file: &str| std::fs::read_to_string(project.join(file)).unwrap();
    let manifest = read("Cargo.toml");
    assert!(
        manifest.contains("name = \"blinky-lights\"\n"),
        "{manifest}"
    );
    assert!(
        manifest.contains(&format!(
            "gaplic = {{ path = \"{}\" }}\n",
            gaplic_path.display()
        )),
        "{manifest}"
    );
    assert!(read("src/main.rs").contains("use blinky_lights::Ticker;"));
    assert!(read("src/main.rs").contains("Launcher::new(\"blinky-lights\")"));
    assert!(read("tests/ticker.rs").contains("use blinky_lights::Ticker;"));
    assert!(read("src/lib.rs").contains("cx.create_child::<GTimer>(\"timer\", Kw::new())?"));
    assert!(read("app.toml").contains("name = \"blinky-lights\"\n"));
    assert!(read("app.toml").contains("gclass = \"Ticker\"\n"));
    assert_eq!(read(".gitignore"), "/target\n");
    for file in [
        "Cargo.toml",
        "src/main.rs",
        "src/lib.rs",
        "tests/ticker.rs",
        "app.toml",
        "README.md",
    ] {
        assert!(!read(file).contains("{{"), "{file} has a placeholder left");
    }
}

#[test]
fn new_depends_on_the_released_version_by_default_and_takes_a_path() {
    let dir = test_dir("version");
    let output = gaplic(&dir, &["new", "ticker", "--path", "apps/my-ticker"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let manifest = std::fs::read_to_string(dir.join("apps/my-ticker/Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("gaplic = \"{}\"\n", env!("CARGO_PKG_VERSION"))),
        "{manifest}"
    );
    assert!(manifest.contains("name = \"ticker\"\n"));
}

#[test]
fn new_refuses_an_existing_directory() {
    let dir = test_dir("exists");
    std::fs::create_dir(dir.join("taken")).unwrap();
    std::fs::write(dir.join("taken/keep.txt"), "mine").unwrap();
    let output = gaplic(&dir, &["new", "taken"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "gaplic new: taken exists already: a new project needs a path of its own\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("taken/keep.txt")).unwrap(),
        "mine"
    );
    let output = gaplic(&dir, &["new", "other", "--path", "taken"]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn new_refuses_a_name_that_is_not_a_crate_name() {
    let dir = test_dir("names");
    for (name, reason) in [
        (
            "my app",
            "` ` is not allowed (ASCII letters, digits, `-` and `_` are)",
        ),
        ("9lives", "it starts with a digit"),
        ("struct", "it is a Rust keyword"),
        (
            "gaplic",
            "the project depends on a gaplic crate of that name",
        ),
    ] {
        let output = gaplic(&dir, &["new", name]);
        assert_eq!(output.status.code(), Some(1), "{name}");
        assert_eq!(
            stderr(&output),
            format!("gaplic new: `{name}` cannot be a package name: {reason}\n")
        );
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing was written"
    );
}

#[test]
fn new_refuses_a_gaplic_path_without_gaplic() {
    let dir = test_dir("gaplic-path");
    let output = gaplic(&dir, &["new", "lights", "--gaplic-path", "/nonexistent"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "gaplic new: --gaplic-path /nonexistent: cannot read /nonexistent/Cargo.toml: \
         No such file or directory (os error 2)\n"
    );
    let runtime = workspace().join("gaplic-runtime");
    let output = gaplic(
        &dir,
        &["new", "lights", "--gaplic-path", runtime.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).ends_with("Cargo.toml is not the manifest of the `gaplic` package\n"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.join("lights").exists());
}

#[test]
fn a_bad_command_line_is_a_usage_error() {
    let dir = test_dir("usage");
    let output = gaplic(&dir, &["new"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("<NAME>"), "{}", stderr(&output));
}
