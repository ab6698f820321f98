-- PostgreSQL twin of migrations/sqlite/0013_policy.sql: same tables and columns; integers are BIGINT
-- (unix milliseconds, counters), flags BOOLEAN, JSON documents TEXT.

-- Delivery policy per route (native API): retry schedule and attempts, timeout, concurrency and
-- rate limits, FIFO ordering per key, body format, auto-disable. The document is stored as
-- validated JSON; the columns the queue needs in SQL are kept beside it.
CREATE TABLE route_policies (
    instance_id TEXT    NOT NULL,
    route_kind  TEXT    NOT NULL,          -- 'subscription' | 'target'
    route_id    TEXT    NOT NULL,
    doc         TEXT    NOT NULL,          -- the policy document (JSON), canonical spelling
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (instance_id, route_kind, route_id)
);

-- The gate of a route with maxInFlight or a rateLimit, shared by every node: deliveries in
-- flight and a token bucket (thousandths of a token, refilled lazily when a claim reads it).
CREATE TABLE route_gates (
    instance_id   TEXT    NOT NULL,
    route_kind    TEXT    NOT NULL,
    route_id      TEXT    NOT NULL,
    max_in_flight BIGINT,                 -- NULL: no concurrency limit
    rate_count    BIGINT,                 -- NULL: no rate limit
    rate_per_ms   BIGINT,
    in_flight     BIGINT NOT NULL DEFAULT 0,
    tokens_milli  BIGINT NOT NULL DEFAULT 0,
    refilled_at   BIGINT NOT NULL,
    PRIMARY KEY (instance_id, route_kind, route_id)
);

-- The newest ordered invocation of each route and key: a new one waits behind it while it lives.
CREATE TABLE ordering_tails (
    instance_id TEXT NOT NULL,
    route_kind  TEXT NOT NULL,
    route_id    TEXT NOT NULL,
    order_key   TEXT NOT NULL,
    tail_id     TEXT NOT NULL,
    PRIMARY KEY (instance_id, route_kind, route_id, order_key)
);

-- gated: claimed only through its route's gate. order_key / order_next: its FIFO key and the
-- invocation of the same key waiting for it to end. holds: what a waiting invocation still waits
-- for (its chain predecessor, its key's predecessor); it becomes pending at zero.
ALTER TABLE invocations ADD COLUMN gated BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE invocations ADD COLUMN order_key TEXT;
ALTER TABLE invocations ADD COLUMN order_next TEXT;
ALTER TABLE invocations ADD COLUMN holds BIGINT NOT NULL DEFAULT 0;
UPDATE invocations SET holds = 1 WHERE status = 'waiting';

-- The ungated due index no longer holds gated rows (a rate-limited backlog must not be scanned
-- by every claim); gated rows have their own, per route.
DROP INDEX invocations_due;
CREATE INDEX invocations_due ON invocations (next_attempt_at)
    WHERE status = 'pending' AND gated = FALSE;
CREATE INDEX invocations_gated_due ON invocations (instance_id, route_kind, route_id, next_attempt_at)
    WHERE status = 'pending' AND gated = TRUE;
