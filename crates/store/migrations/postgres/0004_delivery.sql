-- PostgreSQL twin of migrations/sqlite/0004_delivery.sql: same tables and columns; integers are BIGINT (unix
-- milliseconds, counters), flags BOOLEAN, JSON documents TEXT.

-- The durable queue. An accepted event (or request-response input, or test input) and all of its
-- invocations are written in one transaction before the client gets its answer.
CREATE TABLE events (
    instance_id TEXT    NOT NULL,
    id          TEXT    NOT NULL,   -- the producer's id (idempotency key) or a generated one
    type        TEXT    NOT NULL,   -- trigger id or ZITADEL event type
    payload     TEXT    NOT NULL,   -- the raw JSON payload as accepted
    content_json TEXT,              -- SailPoint's invocation metadata map, as given
    created_at  BIGINT NOT NULL,
    response    TEXT    NOT NULL,   -- the first answer, replayed for a duplicate publish
    PRIMARY KEY (instance_id, id)
);

-- One delivery of one event to one route. Status machine:
-- waiting (behind an earlier target of its chain) → pending → in_flight → delivered | failed
-- (request-response: → awaiting_callback → completed | failed | expired).
CREATE TABLE invocations (
    id                 TEXT    PRIMARY KEY,
    instance_id        TEXT    NOT NULL,
    event_id           TEXT    NOT NULL,
    trigger_id         TEXT    NOT NULL,
    route_kind         TEXT    NOT NULL,          -- 'subscription' | 'target'
    route_id           TEXT    NOT NULL,
    kind               TEXT    NOT NULL,          -- 'real_time' | 'test'
    status             TEXT    NOT NULL,
    attempts           BIGINT  NOT NULL DEFAULT 0,   -- attempts ever made (numbers the log)
    round_base         BIGINT  NOT NULL DEFAULT 0,   -- attempts before the last replay
    next_attempt_at    BIGINT NOT NULL,
    lease_until        BIGINT,
    chain_next         TEXT,                      -- invocation released when this one ends
    interrupt_on_error BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    completed_at       BIGINT,
    last_error         TEXT,
    last_status        BIGINT,
    secret_hash        TEXT,                      -- SHA-256 of the invocation secret (callbacks)
    output             TEXT,                      -- request-response: the subscriber's answer
    deadline_at        BIGINT                     -- request-response: when it times out
);
CREATE INDEX invocations_due ON invocations (next_attempt_at) WHERE status = 'pending';
CREATE INDEX invocations_leased ON invocations (lease_until) WHERE status = 'in_flight';
-- Invocations parked behind a chain or waiting for a callback (rare, short-lived), for metrics.
CREATE INDEX invocations_parked ON invocations (status) WHERE status IN ('waiting', 'awaiting_callback');
CREATE INDEX invocations_by_instance ON invocations (instance_id, created_at);

-- Every outbound request: what was sent (secrets masked), what came back.
CREATE TABLE attempts (
    invocation_id    TEXT    NOT NULL,
    n                BIGINT NOT NULL,
    at               BIGINT NOT NULL,
    request_headers  TEXT    NOT NULL,   -- JSON object, secrets masked
    status           BIGINT,            -- HTTP status, NULL when no response
    duration_ms      BIGINT NOT NULL,
    response_excerpt TEXT,               -- first 4 KiB of the response body
    error            TEXT,
    PRIMARY KEY (invocation_id, n)
);

-- Routes switched off by the delivery engine (a 410 Gone). Fan-out skips them; changing the
-- route through the API switches it back on.
CREATE TABLE disabled_routes (
    instance_id TEXT    NOT NULL,
    route_kind  TEXT    NOT NULL,
    route_id    TEXT    NOT NULL,
    disabled_at BIGINT NOT NULL,
    reason      TEXT    NOT NULL,
    PRIMARY KEY (instance_id, route_kind, route_id)
);
