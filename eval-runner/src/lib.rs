//! The LM-Playschool evaluator: runs an agent through the clemgames and the
//! static benchmarks and writes clemcore-compatible results.
