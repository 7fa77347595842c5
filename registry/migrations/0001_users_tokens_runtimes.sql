-- The registry's first schema: users, their tokens (SHA-256 digests only)
-- and their runtimes. Written for SQLite and PostgreSQL alike: times are
-- milliseconds since the Unix epoch (BIGINT), text is TEXT.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created BIGINT NOT NULL
);

CREATE TABLE tokens (
    digest TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created BIGINT NOT NULL
);

CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE runtimes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    protocol TEXT NOT NULL,
    runtime_type TEXT NOT NULL,
    label TEXT,
    description TEXT,
    secret TEXT,
    registered BIGINT NOT NULL,
    seen BIGINT NOT NULL
);

CREATE INDEX runtimes_user ON runtimes (user_id);
