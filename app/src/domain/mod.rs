//! Domain rules as plain functions over plain types: no web or database types here.

pub mod entry_form;
pub mod quota;
pub mod ranking;
#[cfg(feature = "ssr")]
pub mod readme_table;
pub mod sorting;
pub mod submission_flow;
