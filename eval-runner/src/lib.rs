//! The LM-Playschool evaluator: runs an agent through the clemgames and the
//! static benchmarks and writes clemcore-compatible results.

pub mod bench;
pub mod chat;
pub mod engine;
pub mod load;
pub mod tokenizer;
