//! The `autoscope` binary's integration tests: one test binary (as ripgrep does), a
//! module per command family.

mod analyze;
mod cli;
mod common;
mod convert;
mod faults;
mod latency;
mod output;
mod serve;
mod traces;
mod zip;
mod zip_damage;
