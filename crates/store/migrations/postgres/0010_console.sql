-- The operator's lists (GET /v1/invocations, GET /v1/events): newest first, paged by the keyset
-- (created_at, id). Each filter has an index ending in (created_at, id), so a page reads only
-- the rows it returns, whatever the history's size. The list index replaces the older
-- (instance_id, created_at) one, which it covers (SailPoint's status list reads it too).
CREATE INDEX invocations_list ON invocations (instance_id, created_at, id);
DROP INDEX invocations_by_instance;
CREATE INDEX invocations_list_status ON invocations (instance_id, status, created_at, id);
CREATE INDEX invocations_list_route ON invocations (instance_id, route_id, created_at, id);
CREATE INDEX invocations_list_trigger ON invocations (instance_id, trigger_id, created_at, id);
-- An event's fan-out (GET /v1/events/{id}, ?eventId=): a handful of rows per event.
CREATE INDEX invocations_by_event ON invocations (instance_id, event_id);
CREATE INDEX events_list ON events (instance_id, created_at, id);
CREATE INDEX events_list_type ON events (instance_id, type, created_at, id);
