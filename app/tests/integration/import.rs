//! Importing the challenge README's table: all rows or none.

use crate::on_each_database;
use crate::support::TestDb;
use playschool::model::PhaseKind;
use playschool::server::board;
use playschool::server::import::{import_table, ImportError, ImportReport};

const TABLE: &str = "\
| Rank | Submission Name | Date | Team | clemscore | statscore | Short Description |
|------|-----------------|------|------|-----------|-----------|-------------------|
| 1 | Llama-3.1-8B-Instruct | 2025-07-03 | OrgTeam | 24.60 | 55.45 | The base model |
| 2 | [Playful-8B](https://example.org/playful) | 2025-08-01 | team  POTZBLITZ | 31.20 | 56.00 | Self-play *DPO* |
| 3 | Llama-3.1-8B-PotsBlitz-1 | 2025-07-03 | Team Potsblitz | 14.39 | 50.00 | First fine-tune |
";

on_each_database!(
    a_table_adds_and_updates_rows,
    a_bad_row_imports_nothing,
    a_file_without_a_table_imports_nothing,
);

async fn snapshot(t: &TestDb) -> Vec<(String, String, Option<f64>, Option<f64>, String)> {
    board::load(&t.db, PhaseKind::Dev)
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(|r| (r.name, r.team, r.clemscore, r.statscore, r.description))
        .collect()
}

async fn a_table_adds_and_updates_rows(t: &TestDb) {
    let report = import_table(&t.db, TABLE).await.unwrap();
    assert_eq!(report, ImportReport { added: 1, updated: 2 });
    assert_eq!(
        t.standings().await,
        vec![
            "1 Playful-8B (Team Potzblitz)",
            "2 Llama-3.1-8B-Instruct (OrgTeam)",
            "- Llama-3.1-8B-It-4bit (Team Potzblitz): statscore pending",
            "- Llama-3.1-8B-PotsBlitz-1 (Team Potsblitz): statscore 50.00 below the baseline's 55.45",
        ]
    );
    let board = board::load(&t.db, PhaseKind::Dev).await.unwrap();
    assert_eq!(board.rows[0].repository_url.as_deref(), Some("https://example.org/playful"));
    assert_eq!(board.rows[0].description, "Self-play *DPO*");
    assert_eq!(board.rows[0].clemscore_delta, Some(6.6));

    let again = import_table(&t.db, TABLE).await.unwrap();
    assert_eq!(again, ImportReport { added: 0, updated: 3 }, "importing twice is idempotent");
}

async fn a_bad_row_imports_nothing(t: &TestDb) {
    let before = snapshot(t).await;
    let broken = format!("{TABLE}| 4 | Broken | 2025-08-02 | Team X | 12,5 | tba | oops |\n");
    let Err(ImportError::Rows(errors)) = import_table(&t.db, &broken).await else {
        panic!("a bad row must fail the import");
    };
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages, vec!["line 6: clemscore \"12,5\" is not a number (or tba)"]);
    assert_eq!(snapshot(t).await, before, "nothing was stored");
}

async fn a_file_without_a_table_imports_nothing(t: &TestDb) {
    let before = snapshot(t).await;
    let html = "<html><body><table><tr><td>24.60</td></tr></table></body></html>";
    let Err(ImportError::Rows(errors)) = import_table(&t.db, html).await else {
        panic!("an HTML file must be refused");
    };
    assert!(errors[0].message.starts_with("no leaderboard table found"));
    assert_eq!(snapshot(t).await, before);
}
