//! `switchyard migrate` applies migrations and nothing else: work in the database is neither
//! claimed nor re-queued, so running it next to live nodes cannot strand deliveries.

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::process::Command;
use switchyard_core::{Clock, InstanceId, SystemClock};
use switchyard_store::queue::{InitialState, InvocationKind, NewEvent, NewInvocation, RouteKind};
use switchyard_store::{QueueStore, SqliteStore};

fn migrate(dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["migrate", "--data-dir"])
        .arg(dir)
        .env_remove("SWITCHYARD_DATABASE_URL")
        .output()
        .expect("runs")
}

fn invocation(id: &str, state: InitialState) -> NewInvocation {
    NewInvocation {
        id: id.into(),
        secret_hash: None,
        route_kind: RouteKind::Subscription,
        route_id: "no-such-subscription".into(),
        state,
        chain_next: None,
        interrupt_on_error: false,
        deadline_at: None,
        gated: false,
        order_key: None,
    }
}

#[tokio::test]
async fn migrate_leaves_queued_and_leased_work_alone() {
    let dir = std::env::temp_dir().join(format!("sy-migrate-{}", switchyard_core::ids::hex_id()));
    let out = migrate(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));

    let db = dir.join("switchyard.db");
    let store = SqliteStore::open(&db).await.unwrap();
    let now = SystemClock.now();
    let lease = now.plus_millis(3_600_000);
    store
        .publish(&[NewEvent {
            instance: InstanceId::default_instance(),
            id: "e1".into(),
            event_type: "idn:identity-created".into(),
            payload: "{}".into(),
            content_json: None,
            created_at: now,
            kind: InvocationKind::RealTime,
            invocations: vec![
                invocation("due", InitialState::Pending),
                invocation("leased", InitialState::Leased(lease)),
            ],
            response: "{}".into(),
        }])
        .await
        .unwrap();
    store.close().await;

    // Run it again on a database holding due and leased work.
    let out = migrate(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut conn = SqliteConnectOptions::new()
        .filename(&db)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let rows: Vec<(String, String, i64, Option<i64>)> =
        sqlx::query_as("SELECT id, status, attempts, lease_until FROM invocations ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();
    assert_eq!(
        rows,
        vec![
            ("due".to_string(), "pending".to_string(), 0, None),
            (
                "leased".to_string(),
                "in_flight".to_string(),
                0,
                Some(lease.millis())
            ),
        ],
        "migrate must neither claim due work nor take back leased work"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
