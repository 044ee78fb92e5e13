//! Pages rendered by the server, as a browser without JavaScript (or curl) gets them.

use crate::on_each_database;
use crate::support::TestDb;

on_each_database!(
    the_dev_board_is_complete_without_javascript,
    the_rules_page_states_the_rules,
    a_submission_page_shows_every_field,
    unknown_addresses_answer_404,
    the_test_board_stays_empty_until_published,
);

async fn the_dev_board_is_complete_without_javascript(t: &TestDb) {
    let (status, html) = t.get("/").await;
    assert_eq!(status, 200);
    let base = html.find("Llama-3.1-8B-Instruct").expect("baseline row");
    let four_bit = html.find("Llama-3.1-8B-It-4bit").expect("4-bit row");
    let potsblitz = html.find("Llama-3.1-8B-PotsBlitz-1").expect("PotsBlitz row");
    assert!(base < four_bit && four_bit < potsblitz, "rows out of order");
    let band = html.find(">Unranked<").expect("unranked band");
    assert!(base < band && band < four_bit);
    assert!(html.contains("statscore pending"));
    assert!(html.contains("only those whose statscore is not below the baseline"));
    assert!(html.contains("▼ 5.02"));
    assert!(html.contains("tba"));
    assert!(html.contains("/pkg/playschool.js"), "hydration scripts are linked");
}

async fn the_rules_page_states_the_rules(t: &TestDb) {
    let (status, html) = t.get("/rules").await;
    assert_eq!(status, 200);
    for phrase in ["100 million tokens", "self-play", "2 hours per run", "five highest-ranked teams", "not lower than the baseline"] {
        assert!(html.contains(phrase), "rules page lacks {phrase:?}");
    }
    assert!(html.contains("<h1>LM-Playschool, round β.1</h1>"), "markdown is rendered");
}

async fn a_submission_page_shows_every_field(t: &TestDb) {
    t.execute(
        "UPDATE submissions SET description_md = 'Tuned *well*. <script>alert(1)</script>', \
         repository_url = 'https://example.org/potsblitz' WHERE name = 'Llama-3.1-8B-PotsBlitz-1'",
    )
    .await;
    let (_, board) = t.get("/api/leaderboard/dev.json").await;
    let board: serde_json::Value = serde_json::from_str(&board).unwrap();
    let url = board["rows"][2]["url"].as_str().unwrap().to_string();
    let (status, html) = t.get(&url).await;
    assert_eq!(status, 200);
    for expected in [
        "Llama-3.1-8B-PotsBlitz-1",
        "Team Potsblitz",
        "2025-07-03",
        "14.39",
        "▼ 10.21",
        "Unranked on the dev leaderboard: statscore pending",
        "https://example.org/potsblitz",
        "Tuned <em>well</em>.",
    ] {
        assert!(html.contains(expected), "submission page lacks {expected:?}");
    }
    assert!(!html.contains("<script>alert(1)"), "descriptions are sanitized");
}

async fn unknown_addresses_answer_404(t: &TestDb) {
    for path in ["/no/such/page", "/submissions/999999", "/submissions/not-a-number"] {
        let (status, html) = t.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("Page not found"), "{path}");
    }
}

async fn the_test_board_stays_empty_until_published(t: &TestDb) {
    let (status, html) = t.get("/test").await;
    assert_eq!(status, 200);
    assert!(html.contains("No test results have been published yet."));

    t.execute(
        "INSERT INTO submissions (phase_id, team_id, name, name_key, submitted_on, clemscore, \
                                  average_played, average_quality) \
         SELECT p.id, t.id, 'PotsBlitz-final', 'potsblitz-final', '2025-09-30', 11.23, 79.35, 14.15 \
         FROM phases p, teams t WHERE p.kind = 'test' AND t.name = 'Team Potsblitz'",
    )
    .await;
    let (_, html) = t.get("/test").await;
    assert!(!html.contains("PotsBlitz-final"), "unpublished results stay hidden");
    let (status, _) = t.get("/api/leaderboard/test.json").await;
    assert_eq!(status, 404);

    t.execute("UPDATE phases SET published = 1 WHERE kind = 'test'").await;
    let (_, html) = t.get("/test").await;
    assert!(html.contains("PotsBlitz-final"));
    assert!(html.contains("11.23 (79.35/14.15)"));
}
