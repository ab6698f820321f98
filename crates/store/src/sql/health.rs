//! Route health on the shared SQL layer. A `route_health` row exists only while its route is
//! failing, so one report of successes is a single `DELETE … RETURNING` over the routes that
//! succeeded (nothing to do, and nothing written, for healthy ones); failures are applied route
//! by route under a row lock (PostgreSQL nodes report the same route concurrently). A report is
//! one relaxed transaction: losing one to a power failure only loses a count.

use super::backend::{Backend, SqlStore};
use super::queue::outcomes::switch_off;
use super::{sql_row, Conn, Stmt};
use crate::health::{HealthChange, RouteHealthStore, RouteKey, RouteObservation};
use crate::queue::RouteKind;
use crate::StoreResult;
use async_trait::async_trait;
use std::collections::HashMap;
use switchyard_core::{InstanceId, Timestamp};

sql_row! {
    struct EndedRun {
        instance_id: InstanceId,
        route_kind: RouteKind,
        route_id: String,
        consecutive_failures: i64,
        failing_since: Timestamp,
        notified: bool,
    }
}

sql_row! {
    struct Run {
        consecutive_failures: i64,
        failing_since: Timestamp,
        notified: bool,
    }
}

#[async_trait]
impl<B: Backend> RouteHealthStore for SqlStore<B> {
    async fn observe_routes(
        &self,
        observations: &[RouteObservation],
        failing_after: u32,
    ) -> StoreResult<Vec<HealthChange>> {
        if observations.is_empty() {
            return Ok(Vec::new());
        }
        // The common case: only successes, on routes that were not failing (no row). One read
        // tells, and nothing is written (the single SQLite writer stays free for deliveries).
        if observations.iter().all(|o| o.failures == 0)
            && !any_failing::<B>(&mut self.read().await?, observations).await?
        {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_relaxed().await?;
        let result = observe::<B>(&mut tx, observations, failing_after).await;
        tx.finish(result).await
    }

    async fn route_health(&self, route: &RouteKey) -> StoreResult<Option<(u64, Timestamp)>> {
        let row: Option<Run> = Stmt::new(
            "SELECT consecutive_failures, failing_since, notified FROM route_health
              WHERE instance_id = $1 AND route_kind = $2 AND route_id = $3",
        )
        .bind(&route.instance)
        .bind(route.kind)
        .bind(&route.route_id)
        .fetch_optional(&mut self.read().await?)
        .await?;
        Ok(row.map(|r| (r.consecutive_failures as u64, r.failing_since)))
    }
}

async fn observe<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    observations: &[RouteObservation],
    failing_after: u32,
) -> StoreResult<Vec<HealthChange>> {
    let mut changes = Vec::new();
    // Successes end runs: their rows go, and a run that was reported failing has recovered.
    let succeeded: Vec<&RouteObservation> = observations
        .iter()
        .filter(|o| o.succeeded_at.is_some())
        .collect();
    let recovered_at: HashMap<&RouteKey, Timestamp> = succeeded
        .iter()
        .filter_map(|o| Some((&o.route, o.succeeded_at?)))
        .collect();
    for chunk in succeeded.chunks(B::ROWS_PER_STATEMENT) {
        let ended: Vec<EndedRun> =
            Stmt::new("DELETE FROM route_health WHERE (instance_id, route_kind, route_id) IN (")
                .values(chunk, |t, o| {
                    t.bind(&o.route.instance)
                        .bind(o.route.kind)
                        .bind(&o.route.route_id);
                })
                .push(
                    ") RETURNING instance_id, route_kind, route_id, consecutive_failures,
                        failing_since, notified",
                )
                .fetch_all(tx)
                .await?;
        for run in ended.into_iter().filter(|r| r.notified) {
            let route = RouteKey {
                instance: run.instance_id,
                kind: run.route_kind,
                route_id: run.route_id,
            };
            let Some(at) = recovered_at.get(&route).copied() else {
                continue;
            };
            changes.push(HealthChange::Recovered {
                route,
                failing_since: run.failing_since,
                recovered_at: at,
                failures: run.consecutive_failures as u64,
            });
        }
    }
    for o in observations.iter().filter(|o| o.failures > 0) {
        if let Some(change) = fail::<B>(tx, o, failing_after).await? {
            changes.push(change);
        }
    }
    Ok(changes)
}

/// Whether any of the observed routes has a run of failures.
async fn any_failing<B: Backend>(
    conn: &mut impl Conn<Db = B::Db>,
    observations: &[RouteObservation],
) -> StoreResult<bool> {
    for chunk in observations.chunks(B::ROWS_PER_STATEMENT) {
        let found: Option<(i64,)> = Stmt::new(
            "SELECT consecutive_failures FROM route_health
              WHERE (instance_id, route_kind, route_id) IN (",
        )
        .values(chunk, |t, o| {
            t.bind(&o.route.instance)
                .bind(o.route.kind)
                .bind(&o.route.route_id);
        })
        .push(") LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Adds one route's failures to its run; reports it failing, or disables it, when due.
async fn fail<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    o: &RouteObservation,
    failing_after: u32,
) -> StoreResult<Option<HealthChange>> {
    let (Some(first), Some(last)) = (o.first_failure_at, o.last_failure_at) else {
        return Ok(None);
    };
    let error = o.last_error.as_deref().unwrap_or("delivery failed");
    let r = &o.route;
    let run: Option<Run> = Stmt::new(format!(
        "SELECT consecutive_failures, failing_since, notified FROM route_health
          WHERE instance_id = $1 AND route_kind = $2 AND route_id = $3{}",
        B::FOR_UPDATE
    ))
    .bind(&r.instance)
    .bind(r.kind)
    .bind(&r.route_id)
    .fetch_optional(tx)
    .await?;
    let (before, since, notified) = match run {
        Some(run) => (run.consecutive_failures, run.failing_since, run.notified),
        None => (0, first, false),
    };
    let failures = before + i64::from(o.failures);
    let auto_disable = o.auto_disable_after.is_some_and(|after| {
        let after = i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
        last.millis().saturating_sub(since.millis()) >= after
    });
    if auto_disable {
        let detail = format!(
            "no successful delivery since {} (autoDisable); the route was disabled",
            since.rfc3339()
        );
        switch_off::<B>(
            tx,
            &r.instance,
            r.kind,
            &r.route_id,
            last,
            &detail,
            "the route was disabled: no successful delivery for its autoDisable period",
        )
        .await?;
        // (Switching it off forgot its run: its health starts over once it is back on.)
        return Ok(Some(HealthChange::AutoDisabled {
            route: r.clone(),
            failing_since: since,
            disabled_at: last,
        }));
    }
    let report = !notified && failures >= i64::from(failing_after.max(1));
    Stmt::new(
        "INSERT INTO route_health
           (instance_id, route_kind, route_id, consecutive_failures, failing_since, last_error,
            notified)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (instance_id, route_kind, route_id) DO UPDATE SET
           consecutive_failures = excluded.consecutive_failures,
           last_error = excluded.last_error, notified = excluded.notified",
    )
    .bind(&r.instance)
    .bind(r.kind)
    .bind(&r.route_id)
    .bind(failures)
    .bind(since)
    .bind(error)
    .bind(notified || report)
    .execute(tx)
    .await?;
    Ok(report.then(|| HealthChange::Failing {
        route: r.clone(),
        consecutive_failures: failures as u64,
        failing_since: since,
        last_error: error.to_string(),
    }))
}

/// Forgets a route's run of failures: it was switched off, deleted or switched back on, so its
/// health starts over (an old run must not auto-disable it at its next failure).
pub(crate) async fn forget(
    conn: &mut impl Conn,
    instance: &InstanceId,
    kind: RouteKind,
    route_id: &str,
) -> StoreResult<()> {
    Stmt::new(
        "DELETE FROM route_health WHERE instance_id = $1 AND route_kind = $2 AND route_id = $3",
    )
    .bind(instance)
    .bind(kind)
    .bind(route_id)
    .execute(conn)
    .await?;
    Ok(())
}
