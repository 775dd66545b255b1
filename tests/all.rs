// The test functions may run long (a scenario reads top to bottom); the support code under
// src/ and the benchmark may not (clippy.toml, tests/Cargo.toml).
#![allow(clippy::too_many_lines)]

mod suite;
