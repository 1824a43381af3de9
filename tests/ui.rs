//! Compile-fail and pass cases of `gobj!`, run with trybuild.
//!
//! Each `tests/ui/<rule>.rs` breaks one rule of the macro and must fail to
//! compile with the message recorded beside it in `tests/ui/<rule>.stderr`;
//! each `tests/ui/pass/*.rs` uses one syntax feature and must build and run.
//!
//! The `.stderr` files hold rustc's exact output, so they are tied to the
//! toolchain pinned in `rust-toolchain.toml`: when that changes, or a
//! message of the macro changes on purpose, regenerate them with
//!
//! ```text
//! TRYBUILD=overwrite cargo test --test ui
//! ```
//!
//! and review the diff before committing it.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
