-- PostgreSQL twin of migrations/sqlite/0001_base.sql: same tables and columns; integers are BIGINT (unix
-- milliseconds, counters), flags BOOLEAN, JSON documents TEXT.

-- Instances (tenants). Rows are optional: an instance exists as soon as a resource names it;
-- a row is only needed to bind a domain for `instance.domain` lookups.
CREATE TABLE instances (
    id     TEXT PRIMARY KEY,
    domain TEXT UNIQUE
);

-- Signing keys and webhook secrets of targets and subscriptions, sealed with the master key.
-- A key with `expires_at` set is in its grace period after a rotation; it signs until then.
CREATE TABLE signing_keys (
    instance_id TEXT    NOT NULL,
    owner_kind  TEXT    NOT NULL,  -- 'target' | 'subscription'
    owner_id    TEXT    NOT NULL,
    key_id      TEXT    NOT NULL,
    sealed      TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    PRIMARY KEY (instance_id, owner_kind, owner_id, key_id)
);
