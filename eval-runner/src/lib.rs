//! The LM-Playschool evaluator: runs an agent through the clemgames and the
//! static benchmarks and writes clemcore-compatible results. `scoring` (always
//! built) reads and recomputes clemcore's result files; the rest is the
//! inference engine (feature `engine`).

pub mod scoring;

#[cfg(feature = "engine")]
pub mod bench;
#[cfg(feature = "engine")]
pub mod chat;
#[cfg(feature = "engine")]
pub mod engine;
#[cfg(feature = "engine")]
pub mod evaluate;
#[cfg(feature = "engine")]
pub mod games;
#[cfg(feature = "engine")]
pub mod load;
#[cfg(feature = "engine")]
pub mod tokenizer;
