//! FIFO per key: a route whose policy has `ordering` gives each invocation its event's key, and
//! an invocation is not attempted while an earlier one (in acceptance order) of the same route
//! and key has not ended.
//!
//! The line of a key is a linked list in the invocation rows: `order_next` names the invocation
//! waiting behind this one, and `holds` counts what a waiting invocation still waits for (its
//! key's predecessor and, for a ZITADEL chain member, its chain predecessor). `ordering_tails`
//! names the newest invocation of each key, so a publish links behind it in O(1). Linking
//! happens in the publish transaction with the tail row locked (PostgreSQL `FOR UPDATE`;
//! SQLite's single writer), so two nodes publishing the same key serialise on that row and
//! acceptance order is commit order; keys are locked in sorted order, so two batches cannot
//! deadlock. Because the line lives in the database, it holds across nodes, restarts and
//! crashes: a crashed node's in-flight head is reclaimed when its lease ends and stays the head.
//!
//! An invocation that ends (delivered, failed, cancelled) releases its successor: the
//! successor's `holds` drops, and at zero it becomes pending (see `outcomes::release_waiting`).
//! One that ended while still waiting (cancelled, or failed by its chain's `interruptOnError`)
//! keeps its place in the line and passes the release on when its own predecessor ends.

use crate::queue::{NewEvent, NewInvocation};
use crate::sql::backend::Backend;
use crate::sql::{sql_row, Conn, Stmt};
use crate::StoreResult;
use std::collections::BTreeMap;

/// Where a new invocation stands in its key's line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Place {
    /// It waits behind a live invocation of its key.
    pub waits: bool,
    /// The invocation of this batch behind it (same key).
    pub next: Option<String>,
}

/// Links every ordered invocation of `rows` (in acceptance order) behind the newest live one of
/// its key; returns each row's place (rows without a key get the default).
pub(super) async fn link<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    rows: &[(&NewEvent, &NewInvocation)],
) -> StoreResult<Vec<Place>> {
    let mut places = vec![Place::default(); rows.len()];
    // Each key's rows of this batch in acceptance order; keys in sorted order (lock order).
    let mut lines: BTreeMap<(&str, &str, &str, &str), Vec<usize>> = BTreeMap::new();
    for (i, (ev, inv)) in rows.iter().enumerate() {
        if let Some(key) = &inv.order_key {
            let line = (
                ev.instance.as_str(),
                inv.route_kind.as_str(),
                inv.route_id.as_str(),
                key.as_str(),
            );
            lines.entry(line).or_default().push(i);
        }
    }
    for ((instance, kind, route, key), members) in lines {
        for pair in members.windows(2) {
            places[pair[0]].next = Some(rows[pair[1]].1.id.clone());
            places[pair[1]].waits = true;
        }
        let first = &rows[members[0]].1.id;
        let last = &rows[members[members.len() - 1]].1.id;
        let created: Option<(String,)> = Stmt::new(
            "INSERT INTO ordering_tails (instance_id, route_kind, route_id, order_key, tail_id)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING tail_id",
        )
        .bind(instance)
        .bind(kind)
        .bind(route)
        .bind(key)
        .bind(last.as_str())
        .fetch_optional(tx)
        .await?;
        if created.is_some() {
            continue;
        }
        let tail: Option<(String,)> = Stmt::new(format!(
            "SELECT tail_id FROM ordering_tails
              WHERE instance_id = $1 AND route_kind = $2 AND route_id = $3 AND order_key = $4{}",
            B::FOR_UPDATE
        ))
        .bind(instance)
        .bind(kind)
        .bind(route)
        .bind(key)
        .fetch_optional(tx)
        .await?;
        // Upsert: a tail whose line had ended may have been swept meanwhile.
        Stmt::new(
            "INSERT INTO ordering_tails (instance_id, route_kind, route_id, order_key, tail_id)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (instance_id, route_kind, route_id, order_key)
             DO UPDATE SET tail_id = excluded.tail_id",
        )
        .bind(instance)
        .bind(kind)
        .bind(route)
        .bind(key)
        .bind(last.as_str())
        .execute(tx)
        .await?;
        let Some((tail,)) = tail else { continue };
        // The tail still stands in line unless it ended and passed its releases on.
        let linked: Option<(String,)> = Stmt::new(format!(
            "UPDATE invocations SET order_next = $1
              WHERE id = $2 AND order_next IS NULL AND ({IN_LINE})
              RETURNING id"
        ))
        .bind(first.as_str())
        .bind(tail.as_str())
        .fetch_optional(tx)
        .await?;
        places[members[0]].waits = linked.is_some();
    }
    Ok(places)
}

/// An invocation that still stands in its key's line: live, or ended while it was waiting and
/// not yet passed over.
pub(super) const IN_LINE: &str = "status IN ('waiting', 'pending', 'in_flight')
    OR (holds > 0 AND status IN ('cancelled', 'failed'))";

/// Forgets the tails of lines that have ended (their newest invocation is over and passed on,
/// or purged), at most `limit` of them; returns how many. The next publish of such a key starts
/// a new line. A tail is deleted only if it is still the one read: a publish that linked behind
/// it meanwhile (holding the row) changed it, and the delete then leaves the row alone.
pub(crate) async fn sweep_tails<C: Conn>(conn: &mut C, limit: u32) -> StoreResult<usize> {
    let ended: Vec<TailRow> = Stmt::new(format!(
        "SELECT t.instance_id, t.route_kind, t.route_id, t.order_key, t.tail_id
           FROM ordering_tails t LEFT JOIN invocations i ON i.id = t.tail_id
          WHERE i.id IS NULL OR NOT ({IN_LINE})
          LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let mut swept = 0;
    for t in &ended {
        swept += Stmt::new(
            "DELETE FROM ordering_tails
              WHERE instance_id = $1 AND route_kind = $2 AND route_id = $3 AND order_key = $4
                AND tail_id = $5",
        )
        .bind(t.instance_id.as_str())
        .bind(t.route_kind.as_str())
        .bind(t.route_id.as_str())
        .bind(t.order_key.as_str())
        .bind(t.tail_id.as_str())
        .execute(conn)
        .await? as usize;
    }
    Ok(swept)
}

sql_row! {
    struct TailRow {
        instance_id: String,
        route_kind: String,
        route_id: String,
        order_key: String,
        tail_id: String,
    }
}
