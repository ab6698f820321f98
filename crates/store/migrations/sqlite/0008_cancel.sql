-- Disabling, deleting or unbinding a route ends its queued invocations with status 'cancelled'.
-- One that is in flight at that moment is only marked: its attempt finishes, and if it would be
-- retried it is cancelled instead (a delivery that succeeded stays delivered).
ALTER TABLE invocations ADD COLUMN cancel_reason TEXT;
-- The live invocations of one route, so cancelling them reads only those, whatever the history.
CREATE INDEX invocations_live_by_route ON invocations (instance_id, route_kind, route_id)
    WHERE status IN ('waiting', 'pending', 'in_flight');
