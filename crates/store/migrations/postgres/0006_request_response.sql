-- PostgreSQL twin of migrations/sqlite/0006_request_response.sql.
-- Request-response invocations time out at `deadline_at` (0004 added the column). The deadline
-- sweeper asks for the earliest open deadline and fails everything due; this index keeps both
-- cheap. Fire-and-forget invocations have no deadline and stay out of it.
CREATE INDEX invocations_deadline ON invocations (deadline_at) WHERE deadline_at IS NOT NULL;
