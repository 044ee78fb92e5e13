//! Submitting in the browser, end to end against the fake GitHub: sign-in,
//! teams, evidence checks, pull requests, webhooks, retries and quotas.

use crate::fake_github::{FakeGitHub, OWNER, REPO};
use crate::on_each_database;
use crate::support::{multipart, Answer, Browser, TestDb};
use playschool::server::{auth::now, outbox, AppState};
use std::path::PathBuf;

on_each_database!(
    github_sign_in_starts_a_session_and_a_forged_callback_starts_none,
    forms_without_the_sessions_token_change_nothing,
    team_names_are_unique_ignoring_case_and_people_join_one_team,
    a_verified_entry_opens_a_pull_request_that_adds_its_row,
    merging_accepts_closing_rejects_and_replays_or_forgeries_change_nothing,
    github_failing_for_a_while_delays_the_pull_request_but_never_duplicates_it,
    a_tampered_val_json_is_rejected_with_the_difference_and_stores_nothing,
    bad_uploads_are_refused_with_a_reason_and_leave_nothing,
    two_hundred_submissions_at_once_respect_every_quota_exactly,
    an_organizer_accepts_by_merging_and_reconcile_catches_missed_webhooks,
    without_a_repository_an_organizer_accepts_in_the_app,
    a_login_taken_over_after_a_rename_signs_in_its_new_owner,
);

fn fixture(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../end2end/fixtures").join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn reference(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/playpen").join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The reference run's val.json (33.71 / 37.16) and its results tables.
fn evidence_files(val_json: &[u8]) -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        ("val_json", "qwen3.5-4b.val.json", val_json.to_vec()),
        ("clem_results", "results.csv", reference("results.csv")),
        // Written for the tests (see end2end/fixtures/README.md): the reference has no static table.
        ("static_results", "results.csv", fixture("static-results.csv").into_bytes()),
    ]
}

fn entry_body(csrf: &str, name: &str, files: &[(&str, &str, Vec<u8>)]) -> Vec<u8> {
    let files: Vec<(&str, &str, &[u8])> = files.iter().map(|(i, f, b)| (*i, *f, b.as_slice())).collect();
    multipart(
        &[
            ("csrf", csrf),
            ("name", name),
            ("description", "Self-play on **all** games"),
            ("repository_url", "https://github.com/team/playful"),
            ("model_id", "team/playful-8b"),
            ("model_revision", "a1b2c3d"),
            ("base_model", "meta-llama/Llama-3.1-8B-Instruct"),
            ("training_tokens", "12500000"),
        ],
        &files,
    )
}

async fn with_fake(t: &TestDb, extra: &[(&str, String)]) -> (FakeGitHub, AppState) {
    let fake = FakeGitHub::start("127.0.0.1:0", &fixture("challenge-README.md")).await;
    let mut env = fake.env();
    env.push(("PLAYSCHOOL_DEV_SIGN_IN", "true".into()));
    env.push(("PLAYSCHOOL_ORGANIZERS", "olga".into()));
    env.push(("GITHUB_TIMEOUT_SECONDS", "1".into()));
    env.extend(extra.iter().cloned());
    // The seeded round's dev phase is over; these tests submit to an open one.
    t.execute("UPDATE phases SET closes_on = NULL").await;
    (fake, t.state_with(&env))
}

/// A signed-in member of a new team.
async fn member(state: &AppState, login: &str, team: &str) -> Browser {
    let mut browser = Browser::new(state.clone());
    browser.dev_sign_in(login).await;
    let csrf = browser.csrf().await;
    let answer = browser.post_form("/team/create", &[("csrf", &csrf), ("name", team)]).await;
    assert_eq!(answer.location.as_deref(), Some("/team"), "{answer:?}");
    browser
}

async fn submit(browser: &mut Browser, name: &str, val_json: &[u8]) -> Answer {
    let csrf = browser.csrf().await;
    browser.post_multipart("/submissions", entry_body(&csrf, name, &evidence_files(val_json))).await
}

/// The message a form handler sent back in its redirect's `?error=`.
fn form_error(answer: &Answer) -> String {
    let location = answer.location.clone().unwrap_or_else(|| panic!("no redirect: {answer:?}"));
    let url = url::Url::parse(&format!("http://x{location}")).unwrap();
    url.query_pairs().find(|(k, _)| k == "error").map(|(_, v)| v.into_owned()).unwrap_or_else(|| panic!("no error in {location}"))
}

/// Ann's team with two verified entries whose pull requests (#1, #2) are open.
async fn two_entries_with_open_pull_requests(t: &TestDb) -> (FakeGitHub, AppState, Browser, [i64; 2]) {
    let (fake, state) = with_fake(t, &[]).await;
    let mut ann = member(&state, "ann", "Playful").await;
    let first = submission_id(&submit(&mut ann, "Playful 8B", &reference("qwen3.5-4b.val.json")).await);
    let second = submission_id(&submit(&mut ann, "Playful 8B v2", &reference("qwen3.5-4b.val.json")).await);
    assert_eq!(outbox::run_due(&state, now()).await.unwrap(), 2);
    (fake, state, ann, [first, second])
}

/// The id in a `/submissions/ID` redirect.
fn submission_id(answer: &Answer) -> i64 {
    let location = answer.location.as_deref().unwrap_or_else(|| panic!("no redirect: {answer:?}"));
    location.strip_prefix("/submissions/").and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("went to {location}"))
}

async fn status_of(t: &TestDb, id: i64) -> String {
    let (status,): (String,) =
        sqlx::query_as("SELECT status FROM submissions WHERE id = $1").bind(id).fetch_one(&t.db.pool).await.unwrap();
    status
}

async fn count(t: &TestDb, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&t.db.pool).await.unwrap();
    n
}

async fn deliver(state: &AppState, id: &str, body: &[u8], signature: &str) -> Answer {
    let mut browser = Browser::new(state.clone());
    let request = axum::http::Request::post("/api/github/webhook")
        .header("content-type", "application/json")
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", id)
        .header("x-hub-signature-256", signature);
    browser.send(request, body.to_vec()).await
}

async fn github_sign_in_starts_a_session_and_a_forged_callback_starts_none(t: &TestDb) {
    let (fake, state) = with_fake(t, &[]).await;
    let mut browser = Browser::new(state.clone());
    let start = browser.get("/auth/github").await;
    let authorize = url::Url::parse(start.location.as_deref().expect("off to GitHub")).unwrap();
    assert!(authorize.as_str().starts_with(&format!("{}/login/oauth/authorize?", fake.url)), "{authorize}");
    let query: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], "client-id");

    // A callback with another state (a forged link) is refused and signs nobody in.
    let code = fake.authorize("Ann");
    let forged = browser.get(&format!("/auth/github/callback?code={code}&state=not-the-state")).await;
    assert_eq!(forged.status, 400);
    assert!(forged.body.contains("state mismatch"), "{}", forged.body);
    assert_eq!(count(t, "SELECT COUNT(*) FROM sessions").await, 0);

    let code = fake.authorize("Ann");
    let callback = browser.get(&format!("/auth/github/callback?code={code}&state={}", query["state"])).await;
    assert_eq!((callback.status, callback.location.as_deref()), (303, Some("/team")), "{}", callback.body);
    let page = browser.get("/team").await;
    assert!(page.body.contains("Signed in as @Ann"), "{}", page.body);

    // A used code does not sign in twice, even with the right state.
    browser.set_cookie("playschool_oauth_state", &query["state"]);
    let replay = browser.get(&format!("/auth/github/callback?code={code}&state={}", query["state"])).await;
    assert_eq!(replay.status, 502, "{}", replay.body);
    assert_eq!(replay.body, "GitHub did not sign you in: The code passed is incorrect or expired.");
    assert_eq!(count(t, "SELECT COUNT(*) FROM sessions").await, 1);

    let csrf = browser.csrf().await;
    browser.post_form("/auth/sign-out", &[("csrf", &csrf)]).await;
    assert!(!browser.get("/team").await.body.contains("Signed in as"));
    assert_eq!(count(t, "SELECT COUNT(*) FROM sessions").await, 0);
}

async fn forms_without_the_sessions_token_change_nothing(t: &TestDb) {
    let (_fake, state) = with_fake(t, &[]).await;
    let mut stranger = Browser::new(state.clone());
    let answer = stranger.post_form("/team/create", &[("csrf", "x"), ("name", "Sneaky")]).await;
    assert_eq!((answer.status, answer.body.as_str()), (401, "sign in first"));

    let mut ann = Browser::new(state.clone());
    ann.dev_sign_in("ann").await;
    let answer = ann.post_form("/team/create", &[("csrf", "forged"), ("name", "Sneaky")]).await;
    assert_eq!(answer.status, 403);
    assert!(answer.body.contains("security token"), "{}", answer.body);
    let answer = ann.post_multipart("/submissions", entry_body("forged", "x", &evidence_files(&reference("qwen3.5-4b.val.json")))).await;
    assert_eq!(answer.status, 403);
    assert_eq!(count(t, "SELECT COUNT(*) FROM teams WHERE name = 'Sneaky'").await, 0);
    assert_eq!(count(t, "SELECT COUNT(*) FROM submissions WHERE status <> 'accepted'").await, 0);

    // Development sign-in is refused unless enabled.
    let mut closed = Browser::new(t.state());
    let answer = closed.post_form("/auth/dev", &[("login", "ann")]).await;
    assert_eq!((answer.status, answer.body.as_str()), (403, "development sign-in is disabled on this site"));
}

async fn team_names_are_unique_ignoring_case_and_people_join_one_team(t: &TestDb) {
    let (_fake, state) = with_fake(t, &[]).await;
    let mut ann = member(&state, "ann", "Team Potzblitz 2").await;
    let mut bo = Browser::new(state.clone());
    bo.dev_sign_in("bo").await;
    let csrf = bo.csrf().await;
    let taken = bo.post_form("/team/create", &[("csrf", &csrf), ("name", "team  POTZBLITZ 2")]).await;
    assert!(taken.location.unwrap().contains("exists+already"));

    let csrf = ann.csrf().await;
    ann.post_form("/team/invite", &[("csrf", &csrf), ("login", "@Bo")]).await;
    let page = bo.get("/team").await.body;
    assert!(page.contains("Team Potzblitz 2 (invited by @ann)"), "{page}");
    let (team_id,): (i64,) = sqlx::query_as("SELECT id FROM teams WHERE name = 'Team Potzblitz 2'").fetch_one(&t.db.pool).await.unwrap();
    let csrf = bo.csrf().await;
    let joined = bo.post_form("/team/join", &[("csrf", &csrf), ("team_id", &team_id.to_string())]).await;
    assert_eq!(joined.location.as_deref(), Some("/team"));
    let page = ann.get("/team").await.body;
    assert!(page.contains("Members: @ann, @bo"), "{page}");

    // One team per person: founding a second one is refused, and leaves no empty team behind.
    let second = bo.post_form("/team/create", &[("csrf", &csrf), ("name", "Bo's Own")]).await;
    assert!(second.location.unwrap().contains("in+a+team+already"));
    assert_eq!(count(t, "SELECT COUNT(*) FROM teams WHERE name = 'Bo''s Own'").await, 0);

    // Bad names and logins are refused with their reason.
    let csrf_ann = ann.csrf().await;
    let answer = ann.post_form("/team/invite", &[("csrf", &csrf_ann), ("login", "not a login!")]).await;
    assert_eq!(form_error(&answer), "\"not a login!\" is not a GitHub login.");
    let long = "x".repeat(61);
    let answer = bo.post_form("/team/create", &[("csrf", &csrf), ("name", &long)]).await;
    assert_eq!(form_error(&answer), "A team name needs 1 to 60 characters.");

    bo.post_form("/team/leave", &[("csrf", &csrf)]).await;
    assert!(ann.get("/team").await.body.contains("Members: @ann<"));
}

async fn a_verified_entry_opens_a_pull_request_that_adds_its_row(t: &TestDb) {
    let (fake, state) = with_fake(t, &[]).await;
    let mut ann = member(&state, "ann", "Playful").await;
    let stored = submit(&mut ann, "Playful 8B", &reference("qwen3.5-4b.val.json")).await;
    let id = submission_id(&stored);
    assert_eq!(status_of(t, id).await, "pr_pending");
    let page = ann.get(&format!("/submissions/{id}")).await.body;
    assert!(page.contains("Verified · PR pending"), "{page}");
    assert!(page.contains("verified."), "{page}");

    assert_eq!(outbox::run_due(&state, now()).await.unwrap(), 1);
    let (pulls, added, body) = fake.with_repo(|repo| {
        let pull = &repo.pulls[0];
        let base = &repo.branches["main"];
        let added: Vec<String> =
            repo.branches[&pull.head].lines().filter(|l| !base.lines().any(|b| b == *l)).map(String::from).collect();
        (repo.pulls.len(), added, pull.body.clone())
    });
    assert_eq!(pulls, 1);
    let today = playschool::domain::quota::utc_date(now());
    assert_eq!(added, [format!("| | [Playful 8B](https://github.com/team/playful) | {today} | Playful | 33.71 | 37.16 | Self-play on **all** games |")]);
    assert!(body.contains("| clemscore | 33.71 |") && body.contains("`team/playful-8b` @ `a1b2c3d`"), "{body}");
    assert_eq!(status_of(t, id).await, "pr_open");
    let page = ann.get(&format!("/submissions/{id}")).await.body;
    assert!(page.contains("Verified · PR #1 open"), "{page}");
    assert!(page.contains(&format!("{}/{OWNER}/{REPO}/pull/1", fake.url)), "{page}");
    // Not on the board before the merge.
    assert!(!t.standings().await.iter().any(|row| row.contains("Playful 8B")));
    // Stored with its evidence: per-game scores of both suites.
    assert_eq!(count(t, &format!("SELECT COUNT(*) FROM game_scores WHERE submission_id = {id} AND suite = 'static'")).await, 5);
}

async fn merging_accepts_closing_rejects_and_replays_or_forgeries_change_nothing(t: &TestDb) {
    let (fake, state, mut ann, [first, second]) = two_entries_with_open_pull_requests(t).await;

    // A forged delivery: right shape, wrong signature.
    let merge = fake.decide(1, true);
    let forged = deliver(&state, &merge.id, &merge.body, "sha256=0000").await;
    assert_eq!(forged.status, 401);
    assert_eq!(status_of(t, first).await, "pr_open");
    assert_eq!(count(t, "SELECT COUNT(*) FROM webhook_deliveries").await, 0);

    let merged = deliver(&state, &merge.id, &merge.body, &merge.signature).await;
    assert_eq!((merged.status, merged.body.as_str()), (200, format!("submission {first} accepted").as_str()));
    assert_eq!(status_of(t, first).await, "accepted");
    assert!(t.standings().await.iter().any(|row| row.contains("Playful 8B (Playful)")), "{:?}", t.standings().await);

    // The same delivery again changes nothing, even if its content now says "closed".
    let replay = deliver(&state, &merge.id, &merge.body, &merge.signature).await;
    assert_eq!(replay.body, format!("delivery {} was handled before", merge.id));
    let late_close = fake.delivery(merge.id.clone(), 1, false);
    deliver(&state, &late_close.id, &late_close.body, &late_close.signature).await;
    assert_eq!(status_of(t, first).await, "accepted");

    let close = fake.decide(2, false);
    let closed = deliver(&state, &close.id, &close.body, &close.signature).await;
    assert_eq!(closed.body, format!("submission {second} rejected"));
    assert_eq!(status_of(t, second).await, "rejected");
    assert!(ann.get(&format!("/submissions/{second}")).await.body.contains("closed without merging"));
    assert!(!t.standings().await.iter().any(|row| row.contains("v2")));

    // Signed deliveries that are not what they claim are refused and not recorded.
    let recorded = count(t, "SELECT COUNT(*) FROM webhook_deliveries").await;
    let garbled = b"{\"action\": \"closed\"}";
    let signature = playschool::server::webhook::signature(crate::fake_github::WEBHOOK_SECRET, garbled);
    let answer = deliver(&state, "delivery-garbled", garbled, &signature).await;
    assert_eq!(answer.status, 400);
    assert!(answer.body.starts_with("not a pull_request event payload: missing field"), "{}", answer.body);
    let mut browser = Browser::new(state.clone());
    let unnamed = axum::http::Request::post("/api/github/webhook").header("x-hub-signature-256", &signature);
    let answer = browser.send(unnamed, garbled.to_vec()).await;
    assert_eq!((answer.status, answer.body.as_str()), (400, "X-GitHub-Delivery and X-GitHub-Event are required"));
    assert_eq!(count(t, "SELECT COUNT(*) FROM webhook_deliveries").await, recorded);
}

async fn github_failing_for_a_while_delays_the_pull_request_but_never_duplicates_it(t: &TestDb) {
    let (fake, state) = with_fake(t, &[]).await;
    let mut ann = member(&state, "ann", "Playful").await;
    fake.fail_next(3);
    let id = submission_id(&submit(&mut ann, "Playful 8B", &reference("qwen3.5-4b.val.json")).await);
    let start = now();
    assert_eq!(outbox::run_due(&state, start).await.unwrap(), 0);
    let page = ann.get(&format!("/submissions/{id}")).await.body;
    assert!(page.contains("GitHub unreachable: 502 Server Error · retrying (failed attempts: 1)"), "{page}");
    // Not due again until its back-off has passed.
    assert_eq!(outbox::run_due(&state, start + 1).await.unwrap(), 0);
    assert_eq!(fake.requests().len(), 1);
    let mut clock = start;
    let mut opened = 0;
    while opened == 0 {
        clock += 600;
        opened = outbox::run_due(&state, clock).await.unwrap();
        assert!(clock < start + 6000, "never opened");
    }
    assert_eq!(status_of(t, id).await, "pr_open");

    // The pull request is made but its answer is lost: the retry finds it instead of opening another.
    fake.lose_next_pull_answer();
    let again = submission_id(&submit(&mut ann, "Playful 8B v2", &reference("qwen3.5-4b.val.json")).await);
    assert_eq!(outbox::run_due(&state, clock).await.unwrap(), 0);
    // And a call that hangs past the timeout is a failure like any other.
    fake.stall_next();
    assert_eq!(outbox::run_due(&state, clock + 600).await.unwrap(), 0);
    assert_eq!(outbox::run_due(&state, clock + 1200).await.unwrap(), 1);
    assert_eq!(status_of(t, again).await, "pr_open");
    fake.with_repo(|repo| {
        assert_eq!(repo.pulls.len(), 2, "one pull request per entry");
        assert_eq!(repo.commits, 2, "one README commit per entry");
    });
    assert_eq!(outbox::run_due(&state, clock + 99_999).await.unwrap(), 0, "nothing left to do");
}

async fn a_tampered_val_json_is_rejected_with_the_difference_and_stores_nothing(t: &TestDb) {
    let (fake, state) = with_fake(t, &[]).await;
    let mut ann = member(&state, "ann", "Playful").await;
    let answer = submit(&mut ann, "Too Good", br#"{"clemscore": 35.00, "statscore": 37.16}"#).await;
    let location = answer.location.unwrap();
    assert!(location.starts_with("/submit?rejected="), "{location}");
    let page = ann.get(&location).await.body;
    assert!(page.contains("\"Too Good\" was not accepted"), "{page}");
    assert!(page.contains("clemscore in qwen3.5-4b.val.json"), "{page}");
    assert!(page.contains("<td>35.00</td><td>33.71</td><td>+1.29</td>"), "{page}");
    assert!(page.contains("3 of 3 submissions left today"), "rejected checks do not count: {page}");
    assert_eq!(count(t, "SELECT COUNT(*) FROM submissions WHERE status <> 'accepted'").await, 0);
    assert_eq!(count(t, "SELECT COUNT(*) FROM outbox_jobs").await, 0);
    assert!(fake.requests().is_empty());
    // Another team cannot read the report.
    let mut bo = member(&state, "bo", "Other").await;
    assert!(!bo.get(&location).await.body.contains("Too Good"));
}

async fn bad_uploads_are_refused_with_a_reason_and_leave_nothing(t: &TestDb) {
    let (_fake, state) = with_fake(t, &[("PLAYSCHOOL_MAX_UPLOAD_MB", "1".into())]).await;
    let mut ann = member(&state, "ann", "Playful").await;
    let csrf = ann.csrf().await;

    let huge = vec![b'x'; 2 << 20];
    let answer = ann.post_multipart("/submissions", entry_body(&csrf, "Huge", &[("evidence", "run.zip", huge)])).await;
    assert_eq!(form_error(&answer), "The upload is over the limit of 1 MB.");

    let fields_only = entry_body(&csrf, "", &[]);
    let answer = ann.post_multipart("/submissions", fields_only).await;
    assert_eq!(form_error(&answer), "Submission name: required");

    let no_files = entry_body(&csrf, "No Files", &[]);
    let answer = ann.post_multipart("/submissions", no_files).await;
    let location = answer.location.unwrap();
    let page = ann.get(&location).await.body;
    assert!(page.contains("Add the evidence"), "{page}");

    // An archive whose entry climbs out of the results folder.
    let archive = {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut writer = zip::ZipWriter::new(file.reopen().unwrap());
        writer.start_file("../../evil.val.json", zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut writer, b"{}").unwrap();
        writer.finish().unwrap();
        std::fs::read(file.path()).unwrap()
    };
    let answer = ann.post_multipart("/submissions", entry_body(&csrf, "Climber", &[("evidence", "run.zip", archive)])).await;
    let page = ann.get(&answer.location.unwrap()).await.body;
    assert!(page.contains("would land outside the results folder"), "{page}");

    // A results table that is not UTF-8 is named with its file.
    let mut files = evidence_files(&reference("qwen3.5-4b.val.json"));
    files[1].2 = vec![0xff, 0xfe, b',', b'\n'];
    let answer = ann.post_multipart("/submissions", entry_body(&csrf, "Garbled", &files)).await;
    let page = ann.get(&answer.location.unwrap()).await.body;
    assert!(page.contains("clem/results.csv"), "{page}");

    assert_eq!(count(t, "SELECT COUNT(*) FROM submissions WHERE status <> 'accepted'").await, 0);
    assert_eq!(count(t, "SELECT COUNT(*) FROM rejected_uploads").await, 3);
}

async fn two_hundred_submissions_at_once_respect_every_quota_exactly(t: &TestDb) {
    let (_fake, state) = with_fake(t, &[]).await;
    let val_json = reference("qwen3.5-4b.val.json");
    let mut teams = Vec::new();
    for team in 0..20 {
        let mut browser = member(&state, &format!("user{team}"), &format!("Team {team}")).await;
        let csrf = browser.csrf().await;
        teams.push((browser, csrf));
    }
    let mut posts = tokio::task::JoinSet::new();
    for (team, (browser, csrf)) in teams.iter().enumerate() {
        for attempt in 0..10 {
            let body = entry_body(csrf, &format!("Entry {team}-{attempt}"), &evidence_files(&val_json));
            let mut browser = Browser::new(browser.state.clone());
            browser.set_cookie(
                playschool::server::auth::SESSION_COOKIE,
                teams[team].0.cookie(playschool::server::auth::SESSION_COOKIE).unwrap(),
            );
            posts.spawn(async move { browser.post_multipart("/submissions", body).await });
        }
    }
    let mut stored = 0;
    let mut refused = 0;
    while let Some(answer) = posts.join_next().await {
        let location = answer.unwrap().location.unwrap();
        if location.starts_with("/submissions/") {
            stored += 1;
        } else {
            assert!(location.contains("used+its+3+submissions+for+today"), "{location}");
            refused += 1;
        }
    }
    assert_eq!((stored, refused), (60, 140));
    let per_team: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT team_id, COUNT(*) FROM submissions WHERE status <> 'accepted' GROUP BY team_id ORDER BY team_id",
    )
    .fetch_all(&t.db.pool)
    .await
    .unwrap();
    assert_eq!(per_team.len(), 20);
    assert!(per_team.iter().all(|(_, n)| *n == 3), "{per_team:?}");
    assert_eq!(count(t, "SELECT COUNT(*) FROM outbox_jobs").await, 60);
}

async fn an_organizer_accepts_by_merging_and_reconcile_catches_missed_webhooks(t: &TestDb) {
    let (fake, state, mut ann, [first, second]) = two_entries_with_open_pull_requests(t).await;

    // Participants see no accept button, and cannot post one.
    assert!(!ann.get(&format!("/submissions/{first}")).await.body.contains("Accept"));
    let csrf = ann.csrf().await;
    assert_eq!(ann.post_form(&format!("/submissions/{first}/accept"), &[("csrf", &csrf)]).await.status, 403);

    let mut olga = Browser::new(state.clone());
    olga.dev_sign_in("olga").await;
    let page = olga.get(&format!("/submissions/{first}")).await.body;
    assert!(page.contains("Accept (merges the pull request)"), "{page}");
    let csrf = olga.csrf().await;
    let accepted = olga.post_form(&format!("/submissions/{first}/accept"), &[("csrf", &csrf)]).await;
    assert_eq!(accepted.location, Some(format!("/submissions/{first}")));
    assert_eq!(status_of(t, first).await, "accepted");
    fake.with_repo(|repo| assert!(repo.pulls[0].merged));

    // Merged on GitHub while the webhook got lost: reconcile notices.
    let _lost = fake.decide(2, true);
    assert_eq!(status_of(t, second).await, "pr_open");
    assert_eq!(outbox::reconcile(&state).await.unwrap(), 1);
    assert_eq!(status_of(t, second).await, "accepted");
    assert_eq!(outbox::reconcile(&state).await.unwrap(), 0);
}

async fn without_a_repository_an_organizer_accepts_in_the_app(t: &TestDb) {
    t.execute("UPDATE phases SET closes_on = NULL").await;
    let state = t.state_with(&[("PLAYSCHOOL_DEV_SIGN_IN", "true".into()), ("PLAYSCHOOL_ORGANIZERS", "olga".into())]);
    let mut ann = member(&state, "ann", "Playful").await;
    let id = submission_id(&submit(&mut ann, "Playful 8B", &reference("qwen3.5-4b.val.json")).await);
    assert_eq!(status_of(t, id).await, "awaiting_review");
    assert!(ann.get(&format!("/submissions/{id}")).await.body.contains("waiting for an organizer"));
    let mut olga = Browser::new(state.clone());
    olga.dev_sign_in("olga").await;
    let csrf = olga.csrf().await;
    olga.post_form(&format!("/submissions/{id}/accept"), &[("csrf", &csrf)]).await;
    assert_eq!(status_of(t, id).await, "accepted");
    assert!(t.standings().await.iter().any(|row| row.contains("Playful 8B")));

    // After the deadline the form is closed.
    t.execute("UPDATE phases SET closes_on = '2025-09-15' WHERE kind = 'dev'").await;
    let answer = submit(&mut ann, "Too Late", &reference("qwen3.5-4b.val.json")).await;
    assert!(answer.location.unwrap().contains("closed+on+2025-09-15"));
}

async fn a_login_taken_over_after_a_rename_signs_in_its_new_owner(t: &TestDb) {
    let state = t.state();
    let first = playschool::server::auth::upsert_user(&state, 41, "Ann").await.unwrap();
    // Ann renamed herself on GitHub; someone else now has the login "ann".
    let second = playschool::server::auth::upsert_user(&state, 42, "ann").await.unwrap();
    assert_ne!(first, second);
    let keys: Vec<(i64, String)> = sqlx::query_as("SELECT github_id, login_key FROM users ORDER BY github_id")
        .fetch_all(&t.db.pool)
        .await
        .unwrap();
    assert_eq!(keys, [(41, "ann#41".to_string()), (42, "ann".to_string())]);
    // Ann signs in under her new login and keeps her account.
    assert_eq!(playschool::server::auth::upsert_user(&state, 41, "ann-renamed").await.unwrap(), first);
}
