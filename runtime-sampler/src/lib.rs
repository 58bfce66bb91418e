//! Applies an Autoscope policy to spans and traces.
