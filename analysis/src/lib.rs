//! Autoscope's analysis library: from microservice source code to a sampling policy.
//!
//! The stages, each a function from plain data to plain data (see DESIGN.md):
//! discover files ([`discover`]) → parse and extract [`facts`] per file ([`parse`],
//! [`lang`]) → name services ([`services`]) → resolve into a call graph ([`graph`],
//! with library knowledge from [`conventions`]) → find span sites and their names
//! ([`spans`]) → score ([`score`]) → generate the policy ([`policy_gen`]).
//! [`analysis`] runs them in order; [`diagnostics`] carries what was tolerated.
//! Applying a policy to traces (and calibrating it on them) is `autoscope-replay`'s.

pub mod analysis;
pub mod budget;
pub mod conventions;
pub mod diagnostics;
pub mod discover;
pub mod facts;
pub mod graph;
pub mod knowledge;
pub mod lang;
pub mod parse;
pub mod policy_gen;
pub mod score;
pub mod services;
pub mod spans;
