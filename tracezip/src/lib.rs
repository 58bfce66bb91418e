//! Lossless span compression with a Span Retrieval Tree.
