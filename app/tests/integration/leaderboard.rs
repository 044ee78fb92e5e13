//! The dev board as stored and ranked: seed data, the gate, deltas.

use crate::on_each_database;
use crate::support::TestDb;
use playschool::model::PhaseKind;
use playschool::server::{board, db};

on_each_database!(
    seed_gives_the_three_beta_rows_in_board_order,
    seeding_twice_changes_nothing,
    switching_the_gate_off_ranks_every_entry,
    an_entry_at_the_baseline_statscore_is_ranked_and_one_below_is_not,
);

async fn seed_gives_the_three_beta_rows_in_board_order(t: &TestDb) {
    assert_eq!(
        t.standings().await,
        vec![
            "1 Llama-3.1-8B-Instruct (OrgTeam)",
            "- Llama-3.1-8B-It-4bit (Team Potzblitz): statscore pending",
            "- Llama-3.1-8B-PotsBlitz-1 (Team Potsblitz): statscore pending",
        ]
    );
    let board = board::load(&t.db, PhaseKind::Dev).await.unwrap();
    assert!(board.rows[0].is_baseline);
    assert_eq!(board.rows[0].clemscore_delta, None, "the baseline is not compared with itself");
    assert_eq!(board.rows[1].clemscore_delta, Some(-5.02));
    assert_eq!(board.rows[2].clemscore_delta, Some(-10.21));
    assert_eq!(board.rows[1].statscore, None);
    assert!(board.rule.contains("(55.45)"), "{}", board.rule);
    assert_eq!(board.closes_on.as_deref(), Some("2025-09-15"));
}

async fn seeding_twice_changes_nothing(t: &TestDb) {
    let again = db::open(&t.url).await.unwrap();
    let board = board::load(&again, PhaseKind::Dev).await.unwrap();
    assert_eq!(board.rows.len(), 3);
}

async fn switching_the_gate_off_ranks_every_entry(t: &TestDb) {
    t.execute("UPDATE phases SET gate_enabled = 0 WHERE kind = 'dev'").await;
    let board = board::load(&t.db, PhaseKind::Dev).await.unwrap();
    let ranks: Vec<_> = board.rows.iter().map(|r| r.rank).collect();
    assert_eq!(ranks, vec![Some(1), Some(2), Some(3)]);
    assert!(board.rule.contains("gate is off"));
}

async fn an_entry_at_the_baseline_statscore_is_ranked_and_one_below_is_not(t: &TestDb) {
    t.execute("UPDATE submissions SET statscore = 55.45 WHERE name = 'Llama-3.1-8B-It-4bit'").await;
    t.execute("UPDATE submissions SET statscore = 52.1, clemscore = 30 WHERE name = 'Llama-3.1-8B-PotsBlitz-1'")
        .await;
    assert_eq!(
        t.standings().await,
        vec![
            "1 Llama-3.1-8B-Instruct (OrgTeam)",
            "2 Llama-3.1-8B-It-4bit (Team Potzblitz)",
            "- Llama-3.1-8B-PotsBlitz-1 (Team Potsblitz): statscore 52.10 below the baseline's 55.45",
        ]
    );
}
