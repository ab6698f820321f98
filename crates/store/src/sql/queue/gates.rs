//! Route gates: a route's `maxInFlight` and `rateLimit`, enforced across every node sharing the
//! database. Each gated route has one `route_gates` row holding its deliveries in flight and a
//! token bucket (thousandths of a token, refilled lazily from `refilled_at` whenever a claim
//! reads it). Gated invocations are left out of the ordinary due index; a claim takes them only
//! through their gate, locking the gate row (PostgreSQL `FOR UPDATE SKIP LOCKED`: a gate another
//! node is claiming through is skipped, not waited for; SQLite's single writer serialises
//! claims), and takes at most min(free slots, whole tokens). Every recorded outcome of a gated
//! invocation frees its slot. Work over a limit simply stays queued: nothing is dropped and
//! nothing counts as a failure.
//!
//! Request-response invocations are never gated: their deadline, not a queue, bounds them.

use crate::queue::RouteKind;
use crate::sql::backend::Backend;
use crate::sql::{sql_row, Conn, Dialect, Stmt};
use crate::StoreResult;
use std::collections::HashMap;
use switchyard_core::policy::RoutePolicy;
use switchyard_core::{InstanceId, Timestamp};

/// Gates examined per claim (the least recently served first).
const GATES_PER_CLAIM: i64 = 64;

/// A gated route: `(instance, kind, id)`.
pub(crate) type GateKey = (InstanceId, RouteKind, String);

sql_row! {
    struct GateRow {
        instance_id: InstanceId,
        route_kind: RouteKind,
        route_id: String,
        max_in_flight: Option<i64>,
        rate_count: Option<i64>,
        rate_per_ms: Option<i64>,
        in_flight: i64,
        tokens_milli: i64,
        refilled_at: Timestamp,
        first_due: Option<Timestamp>,
    }
}

const GATE_COLUMNS: &str = "g.instance_id, g.route_kind, g.route_id, g.max_in_flight,
    g.rate_count, g.rate_per_ms, g.in_flight, g.tokens_milli, g.refilled_at";

/// The bucket's state at `now`: whole tokens in thousandths and the refill time they are
/// counted from (advanced only by the time the added tokens took, so slow rates still refill
/// when claims are frequent).
fn refill(
    count: i64,
    per_ms: i64,
    tokens: i64,
    refilled_at: Timestamp,
    now: Timestamp,
) -> (i64, Timestamp) {
    let cap = i128::from(count) * 1000;
    let per = i128::from(per_ms.max(1));
    if i128::from(tokens) >= cap {
        return (cap as i64, now);
    }
    let elapsed = i128::from((now.millis() - refilled_at.millis()).max(0));
    let added = elapsed * cap / per;
    let total = i128::from(tokens) + added;
    if total >= cap {
        return (cap as i64, now);
    }
    let took = (added * per / cap) as i64;
    (total as i64, Timestamp(refilled_at.millis() + took))
}

/// When a bucket holding `tokens` (thousandths) since `refilled_at` has one whole token.
fn token_ready_at(count: i64, per_ms: i64, tokens: i64, refilled_at: Timestamp) -> Timestamp {
    let need = i128::from((1000 - tokens).max(0));
    let cap = i128::from(count.max(1)) * 1000;
    let wait = (need * i128::from(per_ms) + cap - 1) / cap;
    Timestamp(refilled_at.millis() + wait as i64)
}

impl GateRow {
    fn rate(&self) -> Option<(i64, i64)> {
        Some((self.rate_count?, self.rate_per_ms?))
    }

    fn free_slots(&self) -> i64 {
        self.max_in_flight
            .map_or(i64::MAX, |m| (m - self.in_flight).max(0))
    }

    /// When this gate lets its next invocation through, given its earliest pending one.
    fn due_at(&self) -> Option<Timestamp> {
        let first = self.first_due?;
        if self.free_slots() == 0 {
            // A finishing delivery frees a slot and wakes the claimers.
            return None;
        }
        Some(match self.rate() {
            Some((count, per)) => first.max(token_ready_at(
                count,
                per,
                self.tokens_milli,
                self.refilled_at,
            )),
            None => first,
        })
    }
}

/// Claims up to `limit` due gated invocations through their gates; returns their ids.
pub(super) async fn claim<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> StoreResult<Vec<String>> {
    let gates: Vec<GateRow> = Stmt::new(format!(
        "SELECT {GATE_COLUMNS}, CAST(NULL AS BIGINT) AS first_due FROM route_gates g
          WHERE (g.max_in_flight IS NULL OR g.in_flight < g.max_in_flight)
            AND EXISTS (SELECT 1 FROM invocations i
                         WHERE i.status = 'pending' AND i.gated = TRUE
                           AND i.instance_id = g.instance_id AND i.route_kind = g.route_kind
                           AND i.route_id = g.route_id AND i.next_attempt_at <= $1)
          ORDER BY g.refilled_at LIMIT $2{}",
        B::SKIP_LOCKED
    ))
    .bind(now)
    .bind(GATES_PER_CLAIM)
    .fetch_all(tx)
    .await?;
    let mut claimed: Vec<String> = Vec::new();
    for gate in gates {
        let left = i64::from(limit) - claimed.len() as i64;
        if left <= 0 {
            break;
        }
        let (tokens, refilled_at) = match gate.rate() {
            Some((count, per)) => refill(count, per, gate.tokens_milli, gate.refilled_at, now),
            None => (gate.tokens_milli, gate.refilled_at),
        };
        let mut n = left.min(gate.free_slots());
        if gate.rate().is_some() {
            n = n.min(tokens / 1000);
        }
        let mut ids: Vec<String> = Vec::new();
        if n > 0 {
            let rows: Vec<(String,)> = Stmt::new(format!(
                "SELECT id FROM invocations
                  WHERE status = 'pending' AND gated = TRUE AND instance_id = $1
                    AND route_kind = $2 AND route_id = $3 AND next_attempt_at <= $4
                  ORDER BY next_attempt_at LIMIT $5{}",
                B::SKIP_LOCKED
            ))
            .bind(&gate.instance_id)
            .bind(gate.route_kind)
            .bind(&gate.route_id)
            .bind(now)
            .bind(n)
            .fetch_all(tx)
            .await?;
            ids = rows.into_iter().map(|(id,)| id).collect();
        }
        if !ids.is_empty() {
            Stmt::new(format!(
                "UPDATE invocations SET status = 'in_flight', lease_until = $1, updated_at = $2
                 WHERE id {}",
                B::Db::in_list(3)
            ))
            .bind(lease_until)
            .bind(now)
            .bind_list(&ids)
            .execute(tx)
            .await?;
        }
        let taken = ids.len() as i64;
        let tokens = if gate.rate().is_some() {
            tokens - taken * 1000
        } else {
            tokens
        };
        if taken > 0 || gate.rate().is_some() {
            Stmt::new(
                "UPDATE route_gates SET in_flight = in_flight + $1, tokens_milli = $2,
                        refilled_at = $3
                  WHERE instance_id = $4 AND route_kind = $5 AND route_id = $6",
            )
            .bind(taken)
            .bind(tokens)
            .bind(if taken > 0 && gate.rate().is_none() {
                now
            } else {
                refilled_at
            })
            .bind(&gate.instance_id)
            .bind(gate.route_kind)
            .bind(&gate.route_id)
            .execute(tx)
            .await?;
        }
        claimed.extend(ids);
    }
    Ok(claimed)
}

/// The earliest time a gate lets gated work through (`None`: none is waiting, or every gate
/// with work is full and a finishing delivery will wake the claimers).
pub(super) async fn next_due_at<C: Conn>(conn: &mut C) -> StoreResult<Option<Timestamp>> {
    let gates: Vec<GateRow> = Stmt::new(format!(
        "SELECT {GATE_COLUMNS},
                (SELECT MIN(i.next_attempt_at) FROM invocations i
                  WHERE i.status = 'pending' AND i.gated = TRUE
                    AND i.instance_id = g.instance_id AND i.route_kind = g.route_kind
                    AND i.route_id = g.route_id) AS first_due
           FROM route_gates g"
    ))
    .fetch_all(conn)
    .await?;
    Ok(gates.iter().filter_map(GateRow::due_at).min())
}

/// Frees the slots of gated invocations whose attempt ended (`n` per route).
pub(super) async fn release<C: Conn>(
    conn: &mut C,
    ended: HashMap<GateKey, i64>,
) -> StoreResult<usize> {
    let mut freed = 0;
    for ((instance, kind, id), n) in ended {
        freed += Stmt::new(
            "UPDATE route_gates SET in_flight = CASE WHEN in_flight > $1 THEN in_flight - $1
                                                     ELSE 0 END
              WHERE instance_id = $2 AND route_kind = $3 AND route_id = $4",
        )
        .bind(n)
        .bind(&instance)
        .bind(kind)
        .bind(id.as_str())
        .execute(conn)
        .await? as usize;
    }
    Ok(freed)
}

/// Applies a route's new policy to its gate and to its queued invocations: a gate row is
/// created (full bucket) or updated (in-flight count kept, tokens capped to the new size), and
/// queued fire-and-forget invocations become gated or not.
pub(crate) async fn configure<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    kind: RouteKind,
    id: &str,
    policy: &RoutePolicy,
    now: Timestamp,
) -> StoreResult<()> {
    let max = policy.max_in_flight.map(i64::from);
    let (count, per) = match policy.rate_limit {
        Some(r) => (Some(i64::from(r.count)), Some(r.per.as_millis() as i64)),
        None => (None, None),
    };
    let full = count.map_or(0, |c| c * 1000);
    Stmt::new(
        "INSERT INTO route_gates (instance_id, route_kind, route_id, max_in_flight, rate_count,
                                  rate_per_ms, in_flight, tokens_milli, refilled_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)
         ON CONFLICT (instance_id, route_kind, route_id) DO UPDATE SET
             max_in_flight = excluded.max_in_flight, rate_count = excluded.rate_count,
             rate_per_ms = excluded.rate_per_ms,
             tokens_milli = CASE WHEN route_gates.tokens_milli < excluded.tokens_milli
                                 THEN route_gates.tokens_milli ELSE excluded.tokens_milli END",
    )
    .bind(instance)
    .bind(kind)
    .bind(id)
    .bind(max)
    .bind(count)
    .bind(per)
    .bind(full)
    .bind(now)
    .execute(conn)
    .await?;
    Stmt::new(
        "UPDATE invocations SET gated = $1
          WHERE instance_id = $2 AND route_kind = $3 AND route_id = $4
            AND status IN ('waiting', 'pending') AND deadline_at IS NULL AND gated <> $1",
    )
    .bind(policy.is_gated())
    .bind(instance)
    .bind(kind)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_at_their_rate_and_stop_when_full() {
        // 10 per second: one token per 100 ms.
        let (t, at) = refill(10, 1000, 0, Timestamp(0), Timestamp(250));
        assert_eq!((t, at), (2500, Timestamp(250)));
        let (t, at) = refill(10, 1000, 0, Timestamp(0), Timestamp(60_000));
        assert_eq!((t, at), (10_000, Timestamp(60_000)));
        // One per day, read every millisecond: time credit is kept, not lost to rounding.
        let day = 86_400_000;
        let (mut t, mut at) = (0, Timestamp(0));
        for now in (1..=1000).map(|s| Timestamp(s * day / 1000)) {
            (t, at) = refill(1, day, t, at, now);
        }
        assert_eq!(t, 1000);
        assert_eq!(token_ready_at(10, 1000, 500, Timestamp(0)), Timestamp(50));
        assert_eq!(token_ready_at(10, 1000, 1500, Timestamp(7)), Timestamp(7));
        assert_eq!(token_ready_at(3, 1000, 0, Timestamp(0)), Timestamp(334));
    }
}
