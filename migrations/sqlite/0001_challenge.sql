-- A challenge round, its phases, its teams and their submissions.
CREATE TABLE challenges (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    rules_md TEXT NOT NULL
);

CREATE TABLE phases (
    id INTEGER PRIMARY KEY,
    challenge_id INTEGER NOT NULL REFERENCES challenges (id),
    kind TEXT NOT NULL CHECK (kind IN ('dev', 'test')),
    closes_on TEXT,
    gate_enabled INTEGER NOT NULL DEFAULT 1 CHECK (gate_enabled IN (0, 1)),
    published INTEGER NOT NULL DEFAULT 1 CHECK (published IN (0, 1)),
    baseline_submission_id INTEGER,
    UNIQUE (challenge_id, kind)
);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    challenge_id INTEGER NOT NULL REFERENCES challenges (id),
    name TEXT NOT NULL,
    -- lower-cased, spaces collapsed: one team, one spelling
    name_key TEXT NOT NULL,
    UNIQUE (challenge_id, name_key)
);

CREATE TABLE submissions (
    id INTEGER PRIMARY KEY,
    phase_id INTEGER NOT NULL REFERENCES phases (id),
    team_id INTEGER NOT NULL REFERENCES teams (id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    submitted_on TEXT NOT NULL,
    clemscore REAL,
    statscore REAL,
    average_played REAL,
    average_quality REAL,
    description_md TEXT NOT NULL DEFAULT '',
    repository_url TEXT,
    UNIQUE (phase_id, name_key)
);

CREATE TABLE game_scores (
    submission_id INTEGER NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    suite TEXT NOT NULL CHECK (suite IN ('clem', 'static')),
    game TEXT NOT NULL,
    played REAL,
    quality REAL,
    PRIMARY KEY (submission_id, suite, game)
);
