-- PostgreSQL twin of migrations/sqlite/0005_auth.sql: same tables and columns; integers are BIGINT (unix
-- milliseconds, counters), flags BOOLEAN, JSON documents TEXT.

-- API clients for the OAuth2 client-credentials flow (POST /oauth/token). A client belongs to one
-- instance and carries the scopes its tokens get. Only a SHA-256 digest of the (random,
-- high-entropy) secret is stored. Rate limits are `N/WINDOW` text (`100/10s`); NULL means the
-- server-wide default.
CREATE TABLE api_clients (
    id               TEXT    PRIMARY KEY,
    instance_id      TEXT    NOT NULL,
    secret_hash      TEXT    NOT NULL,
    scopes           TEXT    NOT NULL,
    management_limit TEXT,
    producer_limit   TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX api_clients_instance ON api_clients (instance_id);
