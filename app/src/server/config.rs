//! Configuration, read once from the environment; a bad value fails start-up
//! with a message naming the variable.

use std::net::SocketAddr;
use thiserror::Error;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/playschool.db";
const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub database_url: String,
    pub site_addr: SocketAddr,
    /// Where the built site (wasm, JS, CSS, assets) lives.
    pub site_root: String,
    pub site_pkg_dir: String,
    /// Base name of the wasm, JS and CSS files of the site.
    pub output_name: String,
}

#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("DATABASE_URL: unsupported database \"{0}\" (use sqlite://PATH or postgres://HOST/DB)")]
    UnsupportedDatabase(String),
    #[error("LEPTOS_SITE_ADDR: \"{0}\" is not an address like 127.0.0.1:3000")]
    BadSiteAddr(String),
    #[error("{0}: must not be empty")]
    Empty(&'static str),
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any source of variables (the environment, or a test's map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let text = |name: &'static str, default: &str| -> Result<String, ConfigError> {
            match var(name) {
                None => Ok(default.to_string()),
                Some(value) if value.trim().is_empty() => Err(ConfigError::Empty(name)),
                Some(value) => Ok(value.trim().to_string()),
            }
        };
        let database_url = text("DATABASE_URL", DEFAULT_DATABASE_URL)?;
        let scheme = database_url.split_once(':').map_or("", |(scheme, _)| scheme);
        if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
            return Err(ConfigError::UnsupportedDatabase(database_url));
        }
        let site_addr = text("LEPTOS_SITE_ADDR", DEFAULT_SITE_ADDR)?;
        let site_addr = site_addr.parse().map_err(|_| ConfigError::BadSiteAddr(site_addr))?;
        Ok(Self {
            database_url,
            site_addr,
            site_root: text("LEPTOS_SITE_ROOT", "target/site")?,
            site_pkg_dir: text("LEPTOS_SITE_PKG_DIR", "pkg")?,
            output_name: text("LEPTOS_OUTPUT_NAME", "playschool")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_to_the_embedded_database() {
        let config = config(&[]).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:3000");
    }

    #[test]
    fn rejects_unknown_databases_and_bad_addresses() {
        assert_eq!(
            config(&[("DATABASE_URL", "mysql://localhost/x")]).unwrap_err().to_string(),
            "DATABASE_URL: unsupported database \"mysql://localhost/x\" (use sqlite://PATH or postgres://HOST/DB)"
        );
        assert_eq!(
            config(&[("LEPTOS_SITE_ADDR", "localhost")]).unwrap_err(),
            ConfigError::BadSiteAddr("localhost".to_string())
        );
        assert_eq!(config(&[("DATABASE_URL", " ")]).unwrap_err(), ConfigError::Empty("DATABASE_URL"));
    }
}
