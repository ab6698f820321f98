-- PostgreSQL twin of migrations/sqlite/0003_sailpoint.sql: same tables and columns; integers are BIGINT (unix
-- milliseconds, counters), flags BOOLEAN, JSON documents TEXT.

-- SailPoint Event Triggers: custom triggers registered by an instance and trigger subscriptions.
-- A subscription's full document is kept as JSON with its secrets already sealed by the API;
-- trigger_id, name and kind are columns for lookups by the delivery engine.
CREATE TABLE sailpoint_triggers (
    instance_id TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    definition  TEXT    NOT NULL,  -- TriggerDefinition JSON
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);

CREATE TABLE sailpoint_subscriptions (
    instance_id TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    trigger_id  TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    enabled     BOOLEAN NOT NULL,
    doc         TEXT    NOT NULL,  -- SubscriptionDoc JSON, secrets sealed
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);

CREATE INDEX sailpoint_subscriptions_by_trigger ON sailpoint_subscriptions (instance_id, trigger_id);
