-- Participants, their sessions and teams, submissions made in the browser,
-- and the durable work that turns a submission into a pull request.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    github_id BIGINT NOT NULL UNIQUE,
    login TEXT NOT NULL,
    -- lower-cased login: GitHub logins are case-insensitive
    login_key TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie's token: a leaked table does not sign anyone in
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE team_members (
    challenge_id BIGINT NOT NULL REFERENCES challenges (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    team_id BIGINT NOT NULL REFERENCES teams (id),
    -- one team per user per challenge
    PRIMARY KEY (challenge_id, user_id)
);

CREATE TABLE team_invites (
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    login_key TEXT NOT NULL,
    invited_by BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (team_id, login_key)
);

-- Entries imported from the README are live; browser entries start pending.
ALTER TABLE submissions ADD COLUMN status TEXT NOT NULL DEFAULT 'accepted'
    CHECK (status IN ('awaiting_review', 'pr_pending', 'pr_open', 'accepted', 'rejected'));
ALTER TABLE submissions ADD COLUMN created_at BIGINT;
ALTER TABLE submissions ADD COLUMN submitted_by BIGINT REFERENCES users (id);
ALTER TABLE submissions ADD COLUMN model_id TEXT;
ALTER TABLE submissions ADD COLUMN model_revision TEXT;
ALTER TABLE submissions ADD COLUMN base_model TEXT;
ALTER TABLE submissions ADD COLUMN training_tokens BIGINT;
ALTER TABLE submissions ADD COLUMN verification_json TEXT;
ALTER TABLE submissions ADD COLUMN pr_number BIGINT;
ALTER TABLE submissions ADD COLUMN pr_url TEXT;
ALTER TABLE submissions ADD COLUMN pr_head_sha TEXT;
CREATE INDEX submissions_by_team_and_time ON submissions (team_id, created_at);

-- Uploads whose numbers did not check out: kept so the team sees why, never on a board.
CREATE TABLE rejected_uploads (
    id BIGSERIAL PRIMARY KEY,
    team_id BIGINT NOT NULL REFERENCES teams (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    report_json TEXT NOT NULL
);

-- Work that talks to GitHub, done after the submission is safely stored.
CREATE TABLE outbox_jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('open_pr')),
    submission_id BIGINT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_after BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    done_at BIGINT,
    UNIQUE (kind, submission_id)
);

CREATE TABLE webhook_deliveries (
    delivery_id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
