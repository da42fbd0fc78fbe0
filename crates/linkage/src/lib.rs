//! Record linkage for 三方比对: two lists of people (the civil-affairs roster, the student-status
//! list, the household register) that describe the same children with different mistakes — ID
//! numbers missing or mistyped, names in homophones (王/汪), day and month swapped, villages written
//! five ways — linked one to one, each link with its score and the reasons behind it.
//!
//! The method is Fellegi–Sunter, as in Splink: records are normalised ([`prepare`]), candidate
//! pairs come from several blocking keys ([`block`]), each pair is compared field by field into
//! agreement levels that understand Chinese names and dates ([`compare`]), the levels' m and u
//! probabilities are estimated from the data itself — u from random pairs, m by
//! expectation–maximisation over the candidates ([`model`]), with an exact name weighed by how
//! common it is (王伟 says less than 覃梓涵) — and the pairs are resolved one to one by score
//! ([`link`]). Deterministic (seeded sampling, ordered ties), pure (no I/O) and
//! parallel over both cores. Memory follows the lists: records are held in a compact prepared
//! form, and candidate pairs are made, compared and dropped a run of left records at a time.
//!
//! Rules: the plans ask civil affairs, education and police to compare their lists and settle one
//! true set: 民政摸排数据、教育事业统计和学籍系统中农村留守儿童数据及公安机关户籍数据进行比对核实，
//! 形成真实、统一数据 (seeds/004 二(四); also seeds/000 三(二)1).

pub mod block;
pub mod compare;
pub mod coverage;
pub mod discrepancy;
pub mod link;
pub mod model;
pub mod prepare;
pub mod registry;
pub mod single;
pub mod synth;

pub use link::{Decision, Link, Linkage, Settings, link, link_prepared};
pub use prepare::Record;
