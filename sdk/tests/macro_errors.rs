//! Every error the SDK's macros emit, and the hints for types that cannot
//! cross the boundary, as a user sees them: each `tests/ui/*.rs` must fail
//! to compile with exactly the message in its `.stderr` file.
//!
//! After changing a message on purpose, regenerate the files with
//! `TRYBUILD=overwrite cargo test -p scion-sdk --test macro_errors` and
//! review the diff.

#[test]
fn macro_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
