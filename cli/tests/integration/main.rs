//! The `autoscope` binary's integration tests: one test binary (as ripgrep does), a
//! module per command family.

mod analyze;
mod cli;
mod convert;
mod latency;
mod output;
mod traces;
mod zip;
