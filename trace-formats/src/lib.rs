//! Trace files in the formats users have, read into one span model ([`model::Span`],
//! shaped like OTLP) and written back in the same format.

pub mod model;

pub use model::*;
