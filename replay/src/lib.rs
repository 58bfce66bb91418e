//! Autoscope's trace-replay glue: policies applied to trace files.
//!
//! [`apply`] groups a document's spans by trace and runs the runtime sampler over them;
//! [`evaluate`] measures a policy beside head and tail sampling on the same traces;
//! [`faults`] injects latency faults into span CSV files and [`diagnosis`] measures
//! what a method keeps of them and whether their service can still be found;
//! [`calibrate`] tightens an analyzer policy until the runtime sampler meets the target
//! on a trace sample. `autoscope sample`, `eval` and `analyze --traces` share this glue,
//! so what `eval` measures is exactly what `sample` writes. [`stream`] feeds them inputs
//! of any size in bounded memory, whole traces at a time.

pub mod apply;
pub mod calibrate;
pub mod diagnosis;
pub mod evaluate;
pub mod faults;
pub mod stream;
