//! Autoscope's analysis library: from microservice source code to a sampling policy.
//!
//! The stages, each a function from plain data to plain data (see DESIGN.md):
//! discover files → parse and extract [`facts`] per file ([`lang`]) → resolve into a
//! call graph → name span sites → score → generate the policy.

pub mod apply;
pub mod evaluate;
pub mod facts;
pub mod lang;
pub mod conventions;
pub mod diagnostics;
pub mod discover;
pub mod graph;
pub mod parse;
pub mod services;
pub mod analysis;
pub mod policy_gen;
pub mod score;
pub mod spans;
