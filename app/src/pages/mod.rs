//! One module per page; each keeps its server functions beside its components.

pub mod leaderboard;
pub mod not_found;
pub mod rules;
pub mod scores;
pub mod session;
pub mod submission;
pub mod submit;
pub mod team;
pub mod test_board;
