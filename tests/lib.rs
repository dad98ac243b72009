//! End-to-end helpers live in the test files; this crate only hosts them.
