//! `/api/leaderboard/dev.json` and `.csv`: the same rows, ranks and reasons as the page.

use crate::on_each_database;
use crate::support::TestDb;

on_each_database!(json_export_matches_the_board, csv_export_has_one_line_per_row, unknown_exports_answer_404);

async fn json_export_matches_the_board(t: &TestDb) {
    let (status, body) = t.get("/api/leaderboard/dev.json").await;
    assert_eq!(status, 200);
    let board: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(board["phase"], "dev");
    let rows = board["rows"].as_array().unwrap();
    let summary: Vec<_> = rows
        .iter()
        .map(|r| (r["rank"].clone(), r["name"].as_str().unwrap(), r["status"].as_str().unwrap(), r["unranked_reason"].clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (serde_json::json!(1), "Llama-3.1-8B-Instruct", "ranked", serde_json::Value::Null),
            (serde_json::Value::Null, "Llama-3.1-8B-It-4bit", "unranked", serde_json::json!("statscore pending")),
            (serde_json::Value::Null, "Llama-3.1-8B-PotsBlitz-1", "unranked", serde_json::json!("statscore pending")),
        ]
    );
    assert_eq!(rows[0]["statscore"], 55.45);
    assert_eq!(rows[0]["baseline"], true);
    assert_eq!(rows[1]["statscore"], serde_json::Value::Null);
    assert_eq!(rows[1]["clemscore_delta"], -5.02);
}

async fn csv_export_has_one_line_per_row(t: &TestDb) {
    let (status, body) = t.get("/api/leaderboard/dev.csv").await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 4, "{body}");
    assert!(lines[0].starts_with("rank,status,unranked_reason,name,team,date,clemscore,statscore"));
    assert!(lines[1].starts_with("1,ranked,,Llama-3.1-8B-Instruct,OrgTeam,2025-07-03,24.6,55.45"), "{}", lines[1]);
    assert!(lines[2].starts_with(",unranked,statscore pending,Llama-3.1-8B-It-4bit,Team Potzblitz"), "{}", lines[2]);
}

async fn unknown_exports_answer_404(t: &TestDb) {
    for path in ["/api/leaderboard/final.json", "/api/leaderboard/dev.xml", "/api/leaderboard/dev"] {
        let (status, _) = t.get(path).await;
        assert_eq!(status, 404, "{path}");
    }
}
