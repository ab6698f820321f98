-- Retention: old history is purged in small batches, and one event can be expunged (its payload
-- and the response bodies of its attempts erased, ids, times and statuses kept).

-- Set when the event's payload was erased; its invocations are not replayed after that.
ALTER TABLE events ADD COLUMN expunged_at BIGINT;

-- The purge walks each table from its oldest rows; these keep every batch a range read.
CREATE INDEX events_by_age ON events (created_at);
CREATE INDEX attempts_by_age ON attempts (at);
CREATE INDEX calls_by_age ON calls (created_at);
CREATE INDEX call_attempts_by_age ON call_attempts (at);

-- Background maintenance done by one node at a time (the retention purge): the holder renews
-- its lease while it works; another node takes over once the lease has run out.
CREATE TABLE maintenance_leases (
    name   TEXT   PRIMARY KEY,
    holder TEXT   NOT NULL,
    until  BIGINT NOT NULL
);
