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
use std::collections::{BTreeMap, HashMap, HashSet};

/// Where a new invocation stands in its key's line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Place {
    /// It waits behind a live invocation of its key.
    pub waits: bool,
    /// The invocation of this batch behind it (same key).
    pub next: Option<String>,
}

/// A key's line: instance, route kind, route id, key.
type Line<'a> = (&'a str, &'a str, &'a str, &'a str);

/// A line this batch adds to: its first and its last new member (indexes into the batch).
struct Ends<'a> {
    line: Line<'a>,
    first: usize,
    last: usize,
}

sql_row! {
    struct LineRow {
        instance_id: String,
        route_kind: String,
        route_id: String,
        order_key: String,
    }
}

sql_row! {
    struct TailOf {
        instance_id: String,
        route_kind: String,
        route_id: String,
        order_key: String,
        tail_id: String,
    }
}

impl LineRow {
    fn line(&self) -> Line<'_> {
        (
            &self.instance_id,
            &self.route_kind,
            &self.route_id,
            &self.order_key,
        )
    }
}

impl TailOf {
    fn line(&self) -> Line<'_> {
        (
            &self.instance_id,
            &self.route_kind,
            &self.route_id,
            &self.order_key,
        )
    }
}

/// Links every ordered invocation of `rows` (in acceptance order) behind the newest live one of
/// its key; returns each row's place (rows without a key get the default). A batch costs four
/// statements per chunk of keys however many keys it holds: start the lines that are new, lock
/// the tails of the others (in the database's order of keys, the order the sweep locks them in,
/// so neither can deadlock the other), move those tails to this batch's last members, and link
/// each old tail to this batch's first member.
pub(super) async fn link<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    rows: &[(&NewEvent, &NewInvocation)],
) -> StoreResult<Vec<Place>> {
    let mut places = vec![Place::default(); rows.len()];
    // Each key's rows of this batch in acceptance order.
    let mut lines: BTreeMap<Line, Vec<usize>> = BTreeMap::new();
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
    let mut ends = Vec::with_capacity(lines.len());
    for (line, members) in lines {
        for pair in members.windows(2) {
            places[pair[0]].next = Some(rows[pair[1]].1.id.clone());
            places[pair[1]].waits = true;
        }
        ends.push(Ends {
            line,
            first: members[0],
            last: members[members.len() - 1],
        });
    }
    for chunk in ends.chunks(B::ROWS_PER_STATEMENT) {
        let tails = lock_tails::<B>(tx, chunk, rows).await?;
        if tails.is_empty() {
            continue;
        }
        let by_line: HashMap<Line, &Ends> = chunk.iter().map(|e| (e.line, e)).collect();
        let mut moved = Vec::with_capacity(tails.len());
        for t in &tails {
            if let Some(e) = by_line.get(&t.line()) {
                moved.push((*e, t.tail_id.as_str()));
            }
        }
        if moved.is_empty() {
            continue;
        }
        Stmt::new(
            "INSERT INTO ordering_tails (instance_id, route_kind, route_id, order_key, tail_id)",
        )
        .values(&moved, |t, (e, _)| {
            t.bind(e.line.0)
                .bind(e.line.1)
                .bind(e.line.2)
                .bind(e.line.3)
                .bind(rows[e.last].1.id.as_str());
        })
        .push(
            " ON CONFLICT (instance_id, route_kind, route_id, order_key)
                  DO UPDATE SET tail_id = excluded.tail_id",
        )
        .execute(tx)
        .await?;
        // An old tail still stands in line unless it ended and passed its releases on; the
        // first member of its key waits behind it only if it does. (SQLite's RETURNING sees only
        // the updated table: the new `order_next` names the member that now waits.)
        let linked: Vec<(String,)> =
            Stmt::new("UPDATE invocations SET order_next = v.column2 FROM (")
                .values(&moved, |t, (e, tail)| {
                    t.bind(*tail).bind(rows[e.first].1.id.as_str());
                })
                .push(&format!(
                    ") AS v WHERE invocations.id = v.column1 AND invocations.order_next IS NULL
                   AND ({IN_LINE_OF_INVOCATIONS}) RETURNING order_next"
                ))
                .fetch_all(tx)
                .await?;
        let first_of: HashMap<&str, usize> = chunk
            .iter()
            .map(|e| (rows[e.first].1.id.as_str(), e.first))
            .collect();
        for (first,) in &linked {
            if let Some(i) = first_of.get(first.as_str()) {
                places[*i].waits = true;
            }
        }
    }
    Ok(places)
}

/// Starts the lines of `chunk` that are new (their tail is this batch's last member) and locks
/// the tails of the others, which it returns. A tail swept between the two steps (its line had
/// ended) is started again on the next round.
async fn lock_tails<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    chunk: &[Ends<'_>],
    rows: &[(&NewEvent, &NewInvocation)],
) -> StoreResult<Vec<TailOf>> {
    let mut pending: Vec<&Ends> = chunk.iter().collect();
    let mut tails = Vec::new();
    while !pending.is_empty() {
        let started: Vec<LineRow> = Stmt::new(
            "INSERT INTO ordering_tails (instance_id, route_kind, route_id, order_key, tail_id)",
        )
        .values(&pending, |t, e| {
            t.bind(e.line.0)
                .bind(e.line.1)
                .bind(e.line.2)
                .bind(e.line.3)
                .bind(rows[e.last].1.id.as_str());
        })
        .push(" ON CONFLICT DO NOTHING RETURNING instance_id, route_kind, route_id, order_key")
        .fetch_all(tx)
        .await?;
        let started: HashSet<Line> = started.iter().map(LineRow::line).collect();
        pending.retain(|e| !started.contains(&e.line));
        if pending.is_empty() {
            break;
        }
        let locked: Vec<TailOf> = Stmt::new(
            "SELECT instance_id, route_kind, route_id, order_key, tail_id FROM ordering_tails
              WHERE (instance_id, route_kind, route_id, order_key) IN (",
        )
        .values(&pending, |t, e| {
            t.bind(e.line.0)
                .bind(e.line.1)
                .bind(e.line.2)
                .bind(e.line.3);
        })
        .push(&format!(
            ") ORDER BY instance_id, route_kind, route_id, order_key{}",
            B::FOR_UPDATE
        ))
        .fetch_all(tx)
        .await?;
        let found: HashSet<Line> = locked.iter().map(TailOf::line).collect();
        pending.retain(|e| !found.contains(&e.line));
        tails.extend(locked);
    }
    Ok(tails)
}

/// An invocation that still stands in its key's line: live, or ended while it was waiting and
/// not yet passed over.
pub(super) const IN_LINE: &str = "status IN ('waiting', 'pending', 'in_flight')
    OR (holds > 0 AND status IN ('cancelled', 'failed'))";

/// [`IN_LINE`] with its columns named by table (an `UPDATE … FROM` joins another relation).
const IN_LINE_OF_INVOCATIONS: &str = "invocations.status IN ('waiting', 'pending', 'in_flight')
    OR (invocations.holds > 0 AND invocations.status IN ('cancelled', 'failed'))";

/// Forgets the tails of lines that have ended (their newest invocation is over and passed on,
/// or purged), at most `limit` of them; returns how many. The next publish of such a key starts
/// a new line. A tail is deleted only if it is still the one read: a publish that linked behind
/// it meanwhile (holding the row) changed it, and the delete then leaves the row alone.
pub(crate) async fn sweep_tails<C: Conn>(conn: &mut C, limit: u32) -> StoreResult<usize> {
    let ended: Vec<TailRow> = Stmt::new(format!(
        "SELECT t.instance_id, t.route_kind, t.route_id, t.order_key, t.tail_id
           FROM ordering_tails t LEFT JOIN invocations i ON i.id = t.tail_id
          WHERE i.id IS NULL OR NOT ({IN_LINE})
          ORDER BY t.instance_id, t.route_kind, t.route_id, t.order_key
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
