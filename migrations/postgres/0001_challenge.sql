-- A challenge round, its phases, its teams and their submissions.
CREATE TABLE challenges (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    rules_md TEXT NOT NULL
);

CREATE TABLE phases (
    id BIGSERIAL PRIMARY KEY,
    challenge_id BIGINT NOT NULL REFERENCES challenges (id),
    kind TEXT NOT NULL CHECK (kind IN ('dev', 'test')),
    closes_on TEXT,
    gate_enabled BIGINT NOT NULL DEFAULT 1 CHECK (gate_enabled IN (0, 1)),
    published BIGINT NOT NULL DEFAULT 1 CHECK (published IN (0, 1)),
    baseline_submission_id BIGINT,
    UNIQUE (challenge_id, kind)
);

CREATE TABLE teams (
    id BIGSERIAL PRIMARY KEY,
    challenge_id BIGINT NOT NULL REFERENCES challenges (id),
    name TEXT NOT NULL,
    -- lower-cased, spaces collapsed: one team, one spelling
    name_key TEXT NOT NULL,
    UNIQUE (challenge_id, name_key)
);

CREATE TABLE submissions (
    id BIGSERIAL PRIMARY KEY,
    phase_id BIGINT NOT NULL REFERENCES phases (id),
    team_id BIGINT NOT NULL REFERENCES teams (id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    submitted_on TEXT NOT NULL,
    clemscore DOUBLE PRECISION,
    statscore DOUBLE PRECISION,
    average_played DOUBLE PRECISION,
    average_quality DOUBLE PRECISION,
    description_md TEXT NOT NULL DEFAULT '',
    repository_url TEXT,
    UNIQUE (phase_id, name_key)
);

CREATE TABLE game_scores (
    submission_id BIGINT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    suite TEXT NOT NULL CHECK (suite IN ('clem', 'static')),
    game TEXT NOT NULL,
    played DOUBLE PRECISION,
    quality DOUBLE PRECISION,
    PRIMARY KEY (submission_id, suite, game)
);
