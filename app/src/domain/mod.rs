//! Domain rules as plain functions over plain types: no web or database types here.

pub mod ranking;
pub mod sorting;
#[cfg(feature = "ssr")]
pub mod table_import;
