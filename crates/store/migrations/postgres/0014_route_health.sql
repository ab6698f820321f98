-- Route health, for operator events: a row exists only while a route is failing (its first
-- failure after the last success creates it, its next success deletes it), so successful
-- deliveries cost one index probe and the table stays as small as the set of broken routes.
CREATE TABLE route_health (
    instance_id          TEXT    NOT NULL,
    route_kind           TEXT    NOT NULL,
    route_id             TEXT    NOT NULL,
    consecutive_failures BIGINT  NOT NULL,
    failing_since        BIGINT  NOT NULL,   -- the first failure after the last success
    last_error           TEXT    NOT NULL,
    notified             BOOLEAN NOT NULL DEFAULT FALSE,   -- route-failing was sent for this run
    PRIMARY KEY (instance_id, route_kind, route_id)
);
