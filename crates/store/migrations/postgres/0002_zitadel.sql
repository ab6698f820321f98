-- PostgreSQL twin of migrations/sqlite/0002_zitadel.sql: same tables and columns; integers are BIGINT (unix
-- milliseconds, counters), flags BOOLEAN, JSON documents TEXT.

-- ZITADEL Actions: targets and executions, keyed by instance. Signing keys live in
-- signing_keys (owner_kind 'target').
CREATE TABLE zitadel_targets (
    instance_id        TEXT    NOT NULL,
    id                 TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    endpoint           TEXT    NOT NULL,
    timeout_nanos      BIGINT NOT NULL,
    target_type        TEXT    NOT NULL,  -- 'webhook' | 'call' | 'async'
    interrupt_on_error BOOLEAN NOT NULL,
    payload_type       TEXT    NOT NULL,  -- PAYLOAD_TYPE_*
    created_at         BIGINT NOT NULL,
    changed_at         BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id),
    UNIQUE (instance_id, name)
);

-- One execution per condition. `entries` is a JSON array of "t:<target id>" and
-- "i:<condition key>" strings, in call order.
CREATE TABLE zitadel_executions (
    instance_id    TEXT    NOT NULL,
    condition_key  TEXT    NOT NULL,
    entries        TEXT    NOT NULL,
    created_at     BIGINT NOT NULL,
    changed_at     BIGINT NOT NULL,
    PRIMARY KEY (instance_id, condition_key)
);
