-- PostgreSQL twin of migrations/sqlite/0007_calls.sql (integers are BIGINT).
-- Records of synchronous ZITADEL call chains (POST /v1/calls) and each target call they made.
-- Attempts may arrive before their call row (restAsync targets finish after the chain; the
-- writer batches independently), so there is no foreign key between the two tables.
CREATE TABLE calls (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    condition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    status BIGINT NOT NULL,
    error TEXT,
    PRIMARY KEY (instance_id, id)
);

CREATE TABLE call_attempts (
    instance_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    n BIGINT NOT NULL,
    target_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    status BIGINT,
    duration_ms BIGINT NOT NULL,
    error TEXT,
    response_excerpt TEXT,
    PRIMARY KEY (instance_id, call_id, n)
);
