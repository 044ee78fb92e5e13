//! GitHub through octocrab: the OAuth code exchange, the signed-in user, and
//! the challenge repository's pull requests. Every call goes to the base
//! addresses in the configuration, so tests point it at a server of their own.

use crate::domain::readme_table::{insert_row, name_key, parse_leaderboard, TableRow};
use crate::server::config::{ChallengeRepository, GitHubSettings, OAuthApp};
use base64::Engine;
use octocrab::Octocrab;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("GitHub unreachable: {0}")]
    Unreachable(String),
    #[error("GitHub answered {status}: {message}")]
    Refused { status: u16, message: String },
    #[error("{0}")]
    Unusable(String),
}

impl From<octocrab::Error> for GitHubError {
    fn from(error: octocrab::Error) -> Self {
        match error {
            octocrab::Error::GitHub { source, .. } if source.status_code.is_server_error() => {
                Self::Unreachable(format!("{} {}", source.status_code.as_u16(), source.message))
            }
            octocrab::Error::GitHub { source, .. } => {
                Self::Refused { status: source.status_code.as_u16(), message: source.message }
            }
            other => Self::Unreachable(other.to_string()),
        }
    }
}

fn client(base_uri: &str, timeout_seconds: u64, token: Option<&str>, json_accept: bool) -> Result<Octocrab, GitHubError> {
    let timeout = Duration::from_secs(timeout_seconds);
    let mut builder = Octocrab::builder()
        .base_uri(base_uri)
        .map_err(|e| GitHubError::Unusable(format!("bad GitHub address {base_uri}: {e}")))?
        .set_connect_timeout(Some(timeout))
        .set_read_timeout(Some(timeout));
    if json_accept {
        // The OAuth endpoint answers form-encoded unless asked for JSON.
        builder = builder.add_header(http::header::ACCEPT, "application/json".to_string());
    }
    let built = match token {
        Some(token) => builder.personal_token(token.to_string()).build(),
        None => builder.build(),
    };
    built.map_err(|e| GitHubError::Unusable(format!("cannot set up the GitHub client: {e}")))
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct GitHubUser {
    pub id: i64,
    pub login: String,
}

/// Trades the code of the OAuth callback for an access token.
pub async fn exchange_code(
    settings: &GitHubSettings,
    app: &OAuthApp,
    code: &str,
    redirect_uri: &str,
) -> Result<String, GitHubError> {
    #[derive(Deserialize)]
    struct TokenAnswer {
        access_token: Option<String>,
        error_description: Option<String>,
        error: Option<String>,
    }
    let body = serde_json::json!({
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "code": code,
        "redirect_uri": redirect_uri,
    });
    let answer: TokenAnswer =
        client(&settings.oauth_url, settings.timeout_seconds, None, true)?.post("/login/oauth/access_token", Some(&body)).await?;
    answer.access_token.ok_or_else(|| {
        GitHubError::Unusable(format!(
            "GitHub did not sign you in: {}",
            answer.error_description.or(answer.error).unwrap_or_else(|| "no token in its answer".to_string())
        ))
    })
}

/// Who the token belongs to.
pub async fn signed_in_user(settings: &GitHubSettings, token: &str) -> Result<GitHubUser, GitHubError> {
    Ok(client(&settings.api_url, settings.timeout_seconds, Some(token), false)?.get("/user", None::<&()>).await?)
}

/// What a pull request for one entry carries.
#[derive(Clone, Debug)]
pub struct PullRequestDraft {
    pub branch: String,
    pub title: String,
    pub body: String,
    pub row: TableRow,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedPullRequest {
    pub number: i64,
    pub url: String,
    pub head_sha: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullRequestState {
    Open,
    Merged,
    Closed,
}

#[derive(Deserialize)]
struct PullRequest {
    number: i64,
    html_url: String,
    state: String,
    #[serde(default)]
    merged: bool,
    head: Head,
}

#[derive(Deserialize)]
struct Head {
    sha: String,
}

impl From<PullRequest> for OpenedPullRequest {
    fn from(pull: PullRequest) -> Self {
        Self { number: pull.number, url: pull.html_url, head_sha: pull.head.sha }
    }
}

#[derive(Deserialize)]
struct GitRef {
    object: GitObject,
}

#[derive(Deserialize)]
struct GitObject {
    sha: String,
}

#[derive(Deserialize)]
struct FileContent {
    content: String,
    sha: String,
}

#[derive(Serialize)]
struct FileUpdate<'a> {
    message: &'a str,
    content: String,
    sha: &'a str,
    branch: &'a str,
}

/// The repository whose README holds the leaderboard table.
#[derive(Clone)]
pub struct ChallengeRepo {
    crab: Octocrab,
    settings: ChallengeRepository,
}

impl ChallengeRepo {
    pub fn new(github: &GitHubSettings, settings: &ChallengeRepository) -> Result<Self, GitHubError> {
        let crab = client(&github.api_url, github.timeout_seconds, Some(&settings.token), false)?;
        Ok(Self { crab, settings: settings.clone() })
    }

    fn route(&self, rest: &str) -> String {
        format!("/repos/{}/{}/{rest}", self.settings.owner, self.settings.name)
    }

    /// Opens the pull request that adds `draft.row` to the README. Safe to
    /// call again after any failure: each step first looks for what an
    /// earlier attempt already did (the branch, the commit, the pull request).
    pub async fn open_pull_request(&self, draft: &PullRequestDraft) -> Result<OpenedPullRequest, GitHubError> {
        let head = format!("{}:{}", self.settings.owner, draft.branch);
        let existing: Vec<PullRequest> =
            self.crab.get(self.route("pulls"), Some(&[("head", head.as_str()), ("state", "all")])).await?;
        if let Some(pull) = existing.into_iter().next() {
            return Ok(pull.into());
        }

        let base: GitRef =
            self.crab.get(self.route(&format!("git/ref/heads/{}", self.settings.base_branch)), None::<&()>).await?;
        let new_ref = serde_json::json!({ "ref": format!("refs/heads/{}", draft.branch), "sha": base.object.sha });
        match self.crab.post::<_, serde_json::Value>(self.route("git/refs"), Some(&new_ref)).await {
            Ok(_) => {}
            // 422: the branch is there from an earlier attempt.
            Err(octocrab::Error::GitHub { source, .. }) if source.status_code.as_u16() == 422 => {}
            Err(other) => return Err(other.into()),
        }

        let readme_route = self.route(&format!("contents/{}", self.settings.readme_path));
        let readme: FileContent = self.crab.get(&readme_route, Some(&[("ref", draft.branch.as_str())])).await?;
        let text = decode_content(&readme.content)?;
        let already_there = parse_leaderboard(&text)
            .map(|rows| rows.iter().any(|found| name_key(&found.row.name) == name_key(&draft.row.name)))
            .unwrap_or(false);
        if !already_there {
            let updated = insert_row(&text, &draft.row)
                .map_err(|e| GitHubError::Unusable(format!("{}: {e}", self.settings.readme_path)))?;
            let update = FileUpdate {
                message: &draft.title,
                content: base64::engine::general_purpose::STANDARD.encode(updated),
                sha: &readme.sha,
                branch: &draft.branch,
            };
            self.crab.put::<serde_json::Value, _, _>(&readme_route, Some(&update)).await?;
        }

        let pull = serde_json::json!({
            "title": draft.title,
            "head": draft.branch,
            "base": self.settings.base_branch,
            "body": draft.body,
        });
        let opened: PullRequest = self.crab.post(self.route("pulls"), Some(&pull)).await?;
        Ok(opened.into())
    }

    pub async fn pull_request_state(&self, number: i64) -> Result<PullRequestState, GitHubError> {
        let pull: PullRequest = self.crab.get(self.route(&format!("pulls/{number}")), None::<&()>).await?;
        Ok(match (pull.state.as_str(), pull.merged) {
            (_, true) => PullRequestState::Merged,
            ("open", false) => PullRequestState::Open,
            _ => PullRequestState::Closed,
        })
    }

    pub async fn merge(&self, number: i64) -> Result<(), GitHubError> {
        let body = serde_json::json!({ "merge_method": "merge" });
        self.crab.put::<serde_json::Value, _, _>(self.route(&format!("pulls/{number}/merge")), Some(&body)).await?;
        Ok(())
    }

    pub fn full_name(&self) -> String {
        format!("{}/{}", self.settings.owner, self.settings.name)
    }
}

/// GitHub sends file contents base64-encoded, wrapped at 60 columns.
fn decode_content(content: &str) -> Result<String, GitHubError> {
    let compact: String = content.split_whitespace().collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| GitHubError::Unusable(format!("the README's content is not base64: {e}")))?;
    String::from_utf8(bytes).map_err(|_| GitHubError::Unusable("the README is not UTF-8 text".to_string()))
}
