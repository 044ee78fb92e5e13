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
    /// The address people reach the site at: OAuth's callback and `Secure` cookies follow it.
    pub public_url: String,
    pub github: GitHubSettings,
    /// A sign-in form without GitHub, for development only.
    pub dev_sign_in: bool,
    /// GitHub logins (lower-cased) allowed to accept entries.
    pub organizers: Vec<String>,
    pub daily_submissions: u32,
    pub max_upload_bytes: u64,
}

/// Where GitHub is and what the app may do there; every part is optional,
/// and the features that need a missing part are switched off.
#[derive(Clone, Debug, PartialEq)]
pub struct GitHubSettings {
    pub api_url: String,
    /// Where people authorize the app (`<oauth_url>/login/oauth/authorize`).
    pub oauth_url: String,
    pub oauth: Option<OAuthApp>,
    pub repository: Option<ChallengeRepository>,
    pub webhook_secret: Option<String>,
    /// How long one call to GitHub may take before it counts as failed.
    pub timeout_seconds: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
}

/// The repository whose README holds the leaderboard table.
#[derive(Clone, Debug, PartialEq)]
pub struct ChallengeRepository {
    pub owner: String,
    pub name: String,
    /// A token that may push branches and open and merge pull requests there.
    pub token: String,
    pub base_branch: String,
    pub readme_path: String,
}

impl Config {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn is_organizer(&self, login: &str) -> bool {
        self.organizers.iter().any(|organizer| organizer == &login.to_lowercase())
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("DATABASE_URL: unsupported database \"{0}\" (use sqlite://PATH or postgres://HOST/DB)")]
    UnsupportedDatabase(String),
    #[error("LEPTOS_SITE_ADDR: \"{0}\" is not an address like 127.0.0.1:3000")]
    BadSiteAddr(String),
    #[error("{0}: must not be empty")]
    Empty(&'static str),
    #[error("{name}: \"{value}\" is not {expected}")]
    Invalid { name: &'static str, value: String, expected: &'static str },
    #[error("{0} is set but {1} is not: set both or neither")]
    Incomplete(&'static str, &'static str),
    #[error("PLAYSCHOOL_DEV_SIGN_IN: refused in a release build with GitHub sign-in configured")]
    DevSignInInRelease,
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
        let site_addr: SocketAddr = site_addr.parse().map_err(|_| ConfigError::BadSiteAddr(site_addr))?;
        let optional = |name: &'static str| -> Result<Option<String>, ConfigError> {
            match var(name) {
                None => Ok(None),
                Some(value) if value.trim().is_empty() => Err(ConfigError::Empty(name)),
                Some(value) => Ok(Some(value.trim().to_string())),
            }
        };
        let url = |name: &'static str, default: &str| -> Result<String, ConfigError> {
            let value = text(name, default)?;
            if value.starts_with("http://") || value.starts_with("https://") {
                Ok(value.trim_end_matches('/').to_string())
            } else {
                Err(ConfigError::Invalid { name, value, expected: "an http(s):// address" })
            }
        };
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match optional(name)? {
                None => Ok(default),
                Some(value) => value.parse::<u64>().ok().filter(|n| *n > 0).ok_or(ConfigError::Invalid {
                    name,
                    value,
                    expected: "a whole number above 0",
                }),
            }
        };

        let oauth = match (optional("GITHUB_CLIENT_ID")?, optional("GITHUB_CLIENT_SECRET")?) {
            (Some(client_id), Some(client_secret)) => Some(OAuthApp { client_id, client_secret }),
            (None, None) => None,
            (Some(_), None) => return Err(ConfigError::Incomplete("GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET")),
            (None, Some(_)) => return Err(ConfigError::Incomplete("GITHUB_CLIENT_SECRET", "GITHUB_CLIENT_ID")),
        };
        let repository = match (optional("GITHUB_REPOSITORY")?, optional("GITHUB_TOKEN")?) {
            (Some(full_name), Some(token)) => {
                let (owner, name) = full_name
                    .split_once('/')
                    .filter(|(owner, name)| !owner.is_empty() && !name.is_empty() && !name.contains('/'))
                    .ok_or_else(|| ConfigError::Invalid {
                        name: "GITHUB_REPOSITORY",
                        value: full_name.clone(),
                        expected: "owner/name",
                    })?;
                Some(ChallengeRepository {
                    owner: owner.to_string(),
                    name: name.to_string(),
                    token,
                    base_branch: text("GITHUB_BASE_BRANCH", "main")?,
                    readme_path: text("GITHUB_README_PATH", "README.md")?,
                })
            }
            (None, None) => None,
            (Some(_), None) => return Err(ConfigError::Incomplete("GITHUB_REPOSITORY", "GITHUB_TOKEN")),
            (None, Some(_)) => return Err(ConfigError::Incomplete("GITHUB_TOKEN", "GITHUB_REPOSITORY")),
        };
        let dev_sign_in = match optional("PLAYSCHOOL_DEV_SIGN_IN")?.as_deref() {
            None | Some("0" | "false") => false,
            Some("1" | "true") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "PLAYSCHOOL_DEV_SIGN_IN",
                    value: other.to_string(),
                    expected: "true or false",
                })
            }
        };
        if dev_sign_in && oauth.is_some() && !cfg!(debug_assertions) {
            return Err(ConfigError::DevSignInInRelease);
        }
        let organizers = optional("PLAYSCHOOL_ORGANIZERS")?
            .map(|list| list.split(',').map(|login| login.trim().to_lowercase()).filter(|l| !l.is_empty()).collect())
            .unwrap_or_default();
        let daily_submissions = number("PLAYSCHOOL_DAILY_SUBMISSIONS", 3)?;
        let daily_submissions = u32::try_from(daily_submissions).map_err(|_| ConfigError::Invalid {
            name: "PLAYSCHOOL_DAILY_SUBMISSIONS",
            value: daily_submissions.to_string(),
            expected: "a number of submissions per day",
        })?;
        Ok(Self {
            database_url,
            site_addr,
            site_root: text("LEPTOS_SITE_ROOT", "target/site")?,
            site_pkg_dir: text("LEPTOS_SITE_PKG_DIR", "pkg")?,
            output_name: text("LEPTOS_OUTPUT_NAME", "playschool")?,
            public_url: url("PLAYSCHOOL_PUBLIC_URL", &format!("http://{site_addr}"))?,
            github: GitHubSettings {
                api_url: url("GITHUB_API_URL", "https://api.github.com")?,
                oauth_url: url("GITHUB_OAUTH_URL", "https://github.com")?,
                oauth,
                repository,
                webhook_secret: optional("GITHUB_WEBHOOK_SECRET")?,
                timeout_seconds: number("GITHUB_TIMEOUT_SECONDS", 10)?,
            },
            dev_sign_in,
            organizers,
            daily_submissions,
            max_upload_bytes: number("PLAYSCHOOL_MAX_UPLOAD_MB", 20)?.saturating_mul(1 << 20),
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

    #[test]
    fn github_is_off_until_configured_and_safe_by_default() {
        let config = config(&[]).unwrap();
        assert_eq!((config.github.oauth.as_ref(), config.github.repository.as_ref()), (None, None));
        assert!(!config.dev_sign_in);
        assert!(!config.secure_cookies());
        assert_eq!((config.daily_submissions, config.max_upload_bytes), (3, 20 << 20));
    }

    #[test]
    fn github_settings_come_in_pairs_and_in_shape() {
        let full = config(&[
            ("GITHUB_REPOSITORY", "lm-playschool/challenge"),
            ("GITHUB_TOKEN", "t"),
            ("PLAYSCHOOL_PUBLIC_URL", "https://playschool.example/"),
            ("PLAYSCHOOL_ORGANIZERS", "Ann, bo"),
        ])
        .unwrap();
        let repository = full.github.repository.as_ref().unwrap();
        assert_eq!((repository.owner.as_str(), repository.name.as_str()), ("lm-playschool", "challenge"));
        assert!(full.secure_cookies());
        assert!(full.is_organizer("ANN") && !full.is_organizer("carl"));
        assert_eq!(
            config(&[("GITHUB_CLIENT_ID", "x")]).unwrap_err().to_string(),
            "GITHUB_CLIENT_ID is set but GITHUB_CLIENT_SECRET is not: set both or neither"
        );
        assert_eq!(
            config(&[("GITHUB_REPOSITORY", "just-a-name"), ("GITHUB_TOKEN", "t")]).unwrap_err().to_string(),
            "GITHUB_REPOSITORY: \"just-a-name\" is not owner/name"
        );
        assert_eq!(
            config(&[("PLAYSCHOOL_DAILY_SUBMISSIONS", "0")]).unwrap_err().to_string(),
            "PLAYSCHOOL_DAILY_SUBMISSIONS: \"0\" is not a whole number above 0"
        );
        assert_eq!(
            config(&[("PLAYSCHOOL_DEV_SIGN_IN", "yes")]).unwrap_err().to_string(),
            "PLAYSCHOOL_DEV_SIGN_IN: \"yes\" is not true or false"
        );
        assert_eq!(
            config(&[("GITHUB_API_URL", "api.github.com")]).unwrap_err().to_string(),
            "GITHUB_API_URL: \"api.github.com\" is not an http(s):// address"
        );
    }
}
