//! The `playschool` binary as an operator meets it: exit codes and one-line errors.

use std::process::{Command, Output};

fn playschool(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_playschool"));
    command.args(args).env_remove("DATABASE_URL").env("RUST_BACKTRACE", "1").env("RUST_LOG", "off");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run playschool")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A failure is one `error:` line, a non-zero exit and no panic.
fn assert_one_line_error(output: &Output, starts_with: &str) {
    let stderr = stderr(output);
    assert!(!output.status.success(), "should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with(starts_with), "{stderr}");
}

fn sqlite_in(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("playschool.db").display())
}

#[test]
fn every_subcommand_has_help() {
    for args in [&["--help"][..], &["serve", "--help"], &["import-table", "--help"]] {
        let output = playschool(args, &[]);
        assert!(output.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: playschool"), "{args:?}");
    }
}

#[test]
fn a_malformed_database_url_is_one_line() {
    let output = playschool(&["serve"], &[("DATABASE_URL", "mysql://localhost/x")]);
    assert_one_line_error(&output, "error: DATABASE_URL: unsupported database \"mysql://localhost/x\"");
}

#[test]
fn an_unreachable_database_is_one_line() {
    let output = playschool(&[], &[("DATABASE_URL", "postgres://127.0.0.1:1/playschool")]);
    assert_one_line_error(&output, "error: cannot open database postgres://127.0.0.1:1/playschool: ");
}

#[test]
fn a_bad_site_address_is_one_line() {
    let output = playschool(&["serve"], &[("LEPTOS_SITE_ADDR", "localhost")]);
    assert_one_line_error(&output, "error: LEPTOS_SITE_ADDR: \"localhost\" is not an address");
}

#[test]
fn a_port_in_use_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = playschool(&["serve"], &[("DATABASE_URL", &sqlite_in(&dir)), ("LEPTOS_SITE_ADDR", &addr)]);
    assert_one_line_error(&output, &format!("error: cannot listen on {addr} (set LEPTOS_SITE_ADDR to another address): "));
}

#[test]
fn a_database_from_a_newer_release_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_in(&dir);
    let table = dir.path().join("empty.md");
    std::fs::write(&table, "no table").unwrap();
    // First run creates and migrates the database.
    playschool(&["import-table", table.to_str().unwrap()], &[("DATABASE_URL", &url)]);
    let db_path = dir.path().join("playschool.db");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db_path.display())).await.unwrap();
        conn.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99990101000000, 'newer', TRUE, X'00', 0)",
        )
        .await
        .unwrap();
    });
    let output = playschool(&["serve"], &[("DATABASE_URL", &url)]);
    assert_one_line_error(&output, "error: the database has migration 99990101000000 applied");
}

#[test]
fn import_table_reports_bad_rows_by_line_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_in(&dir);
    let table = dir.path().join("README.md");
    std::fs::write(
        &table,
        "# Board\n\n| Submission Name | Date | Team | clemscore | statscore |\n|---|---|---|---|---|\n\
         | Good-1 | 2025-08-01 | Team A | 30.00 | 60.00 |\n| Bad-1 | 2025-08-32 | Team B | 20.00 | tba |\n",
    )
    .unwrap();
    let output = playschool(&["import-table", table.to_str().unwrap()], &[("DATABASE_URL", &url)]);
    let errors = stderr(&output);
    assert!(!output.status.success());
    assert!(errors.contains(&format!("{}:6: date \"2025-08-32\" is not a date like 2025-07-03", table.display())), "{errors}");
    assert!(errors.contains("error: nothing was imported"), "{errors}");

    std::fs::write(&table, std::fs::read_to_string(&table).unwrap().replace("2025-08-32", "2025-08-02")).unwrap();
    let output = playschool(&["import-table", table.to_str().unwrap()], &[("DATABASE_URL", &url)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "imported 2 rows into the dev phase (2 new, 0 updated)");
}

#[test]
fn import_table_refuses_a_missing_or_binary_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_in(&dir);
    let missing = dir.path().join("missing.md");
    let output = playschool(&["import-table", missing.to_str().unwrap()], &[("DATABASE_URL", &url)]);
    assert_one_line_error(&output, &format!("error: cannot read {}", missing.display()));

    let binary = dir.path().join("results.zip");
    std::fs::write(&binary, [0x50, 0x4b, 0x03, 0x04, 0xff, 0xfe]).unwrap();
    let output = playschool(&["import-table", binary.to_str().unwrap()], &[("DATABASE_URL", &url)]);
    assert_one_line_error(&output, &format!("error: {} is not UTF-8 text", binary.display()));
}

/// A results folder holding the reference run's val.json and clem results.csv.
fn reference_run(val_json: &str) -> tempfile::TempDir {
    let reference = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/playpen");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("clem")).unwrap();
    std::fs::copy(reference.join("results.csv"), dir.path().join("clem/results.csv")).unwrap();
    std::fs::write(dir.path().join("qwen3.5-4b.val.json"), val_json).unwrap();
    dir
}

#[test]
fn verify_accepts_the_reference_run() {
    let dir = reference_run(r#"{"clemscore": 33.71}"#);
    let output = playschool(&["verify", dir.path().to_str().unwrap()], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let verdict: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(verdict["verified"], true);
    assert_eq!(verdict["clem"]["recomputed"]["clemscore"], 33.71);
    assert_eq!(verdict["clem"]["games"].as_array().unwrap().len(), 13);
}

#[test]
fn verify_rejects_a_tampered_score_and_says_by_how_much() {
    let dir = reference_run(r#"{"clemscore": 34.71}"#);
    let output = playschool(&["verify", dir.path().to_str().unwrap()], &[]);
    assert_one_line_error(&output, "error: 1 number(s) differ from their recomputation");
    let verdict: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(verdict["mismatches"][0]["what"], "clemscore in qwen3.5-4b.val.json");
    assert_eq!(verdict["mismatches"][0]["difference"], 1.0);
}

#[test]
fn verify_reports_unreadable_files_by_name_and_line() {
    let dir = reference_run("{\"clemscore\": 33.71,\n\"statscore\": oops}");
    let output = playschool(&["verify", dir.path().to_str().unwrap()], &[]);
    assert_one_line_error(&output, "error: qwen3.5-4b.val.json:2: not valid JSON");
    assert!(output.stdout.is_empty());
}

#[test]
fn verify_reads_a_zipped_results_folder_and_refuses_other_files() {
    let dir = reference_run(r#"{"clemscore": 33.71}"#);
    let archive = dir.path().join("evidence.zip");
    let status = Command::new("python3")
        .args(["-c", "import shutil,sys; shutil.make_archive(sys.argv[1][:-4], 'zip', sys.argv[2])"])
        .arg(&archive)
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let output = playschool(&["verify", archive.to_str().unwrap()], &[]);
    assert!(output.status.success(), "{}", stderr(&output));

    let html = dir.path().join("results.html");
    std::fs::write(&html, "<html>33.71</html>").unwrap();
    let output = playschool(&["verify", html.to_str().unwrap()], &[]);
    assert_one_line_error(&output, &format!("error: {}: neither a folder, a .zip nor a .tar.gz archive", html.display()));
}

#[test]
fn set_deadline_refuses_an_unknown_phase_or_day_and_sets_a_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_in(&dir);
    let env = [("DATABASE_URL", url.as_str())];
    assert_one_line_error(&playschool(&["set-deadline", "final", "2026-12-31"], &env), "error: phase \"final\" is neither dev nor test");
    assert_one_line_error(
        &playschool(&["set-deadline", "dev", "2026-02-30"], &env),
        "error: date \"2026-02-30\" is not a date like 2025-07-03",
    );
    assert!(!dir.path().join("playschool.db").exists(), "refused before the database was opened");
    let output = playschool(&["set-deadline", "dev", "2026-12-31"], &env);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "the dev phase now takes entries through 2026-12-31\n");
}
