//! Library side of the `shouwang` binary: the demo data generator, shared with the benchmark.

pub mod demo;
pub mod export;
pub mod import;
