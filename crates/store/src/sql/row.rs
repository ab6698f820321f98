//! Rows decode into named structs: [`sql_row!`] declares a struct whose fields are the selected
//! columns (by name) and decodes each through [`Column`]. Columns holding ids and text enums
//! parse on the way in, so a row that reaches the store's logic already holds valid values, and a
//! damaged one is an error naming its column.

use super::{Col, Sql};
use switchyard_core::invocation::{
    AttemptOutcome, CallAttemptOutcome, DestinationKind, InvocationKind, InvocationStatus,
    RouteKind, UnknownValue,
};
use switchyard_core::{InstanceId, Timestamp};

/// A value read from a row.
pub trait FromSqlRow: Sized + Send + 'static {
    fn from_row<DB: Sql>(row: &DB::Row) -> Result<Self, sqlx::Error>;
}

/// A value read from one column.
pub trait Column: Sized + Send + 'static {
    fn get<DB: Sql>(row: &DB::Row, col: Col<'_>) -> Result<Self, sqlx::Error>;
}

fn corrupt(col: Col<'_>, why: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored column {col:?}: {why}").into())
}

fn required<T>(col: Col<'_>, v: Option<T>) -> Result<T, sqlx::Error> {
    v.ok_or_else(|| corrupt(col, "is NULL"))
}

impl Column for Option<String> {
    fn get<DB: Sql>(row: &DB::Row, col: Col<'_>) -> Result<Self, sqlx::Error> {
        DB::text(row, col)
    }
}

impl Column for String {
    fn get<DB: Sql>(row: &DB::Row, col: Col<'_>) -> Result<Self, sqlx::Error> {
        required(col, DB::text(row, col)?)
    }
}

impl Column for Option<i64> {
    fn get<DB: Sql>(row: &DB::Row, col: Col<'_>) -> Result<Self, sqlx::Error> {
        DB::int(row, col)
    }
}

impl Column for i64 {
    fn get<DB: Sql>(row: &DB::Row, col: Col<'_>) -> Result<Self, sqlx::Error> {
        required(col, DB::int(row, col)?)
    }
}

impl Column for bool {
    fn get<DB: Sql>(row: &DB::Row, col: Col<'_>) -> Result<Self, sqlx::Error> {
        required(col, DB::boolean(row, col)?)
    }
}

impl Column for Timestamp {
    fn get<DB: Sql>(row: &DB::Row, col: Col<'_>) -> Result<Self, sqlx::Error> {
        i64::get::<DB>(row, col).map(Timestamp)
    }
}

impl Column for Option<Timestamp> {
    fn get<DB: Sql>(row: &DB::Row, col: Col<'_>) -> Result<Self, sqlx::Error> {
        Ok(Option::<i64>::get::<DB>(row, col)?.map(Timestamp))
    }
}

impl Column for InstanceId {
    fn get<DB: Sql>(row: &DB::Row, col: Col<'_>) -> Result<Self, sqlx::Error> {
        InstanceId::parse(&String::get::<DB>(row, col)?).map_err(|e| corrupt(col, e))
    }
}

/// Text enums decode through their one `parse`: an unknown spelling is an error.
macro_rules! text_column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn get<DB: Sql>(row: &DB::Row, col: Col<'_>) -> Result<Self, sqlx::Error> {
                <$t>::parse(&String::get::<DB>(row, col)?).map_err(|e: UnknownValue| corrupt(col, e))
            }
        }
    )*};
}

text_column!(
    InvocationStatus,
    RouteKind,
    InvocationKind,
    CallAttemptOutcome,
    DestinationKind,
    AttemptOutcome
);

/// A single selected value.
impl<A: Column> FromSqlRow for (A,) {
    fn from_row<DB: Sql>(row: &DB::Row) -> Result<Self, sqlx::Error> {
        Ok((A::get::<DB>(row, Col::At(0))?,))
    }
}

/// Two selected values.
impl<A: Column, B: Column> FromSqlRow for (A, B) {
    fn from_row<DB: Sql>(row: &DB::Row) -> Result<Self, sqlx::Error> {
        Ok((
            A::get::<DB>(row, Col::At(0))?,
            B::get::<DB>(row, Col::At(1))?,
        ))
    }
}

/// Declares a row struct: fields named like the selected columns (alias them with `AS`).
macro_rules! sql_row {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$fmeta:meta])* $field:ident: $ty:ty),+ $(,)?
    }) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$fmeta])* pub $field: $ty),+
        }

        impl $crate::sql::FromSqlRow for $name {
            fn from_row<DB: $crate::sql::Sql>(
                row: &DB::Row,
            ) -> ::std::result::Result<Self, ::sqlx::Error> {
                Ok(Self {
                    $($field: <$ty as $crate::sql::Column>::get::<DB>(
                        row,
                        $crate::sql::Col::Name(stringify!($field)),
                    )?),+
                })
            }
        }
    };
}
pub(crate) use sql_row;

#[cfg(test)]
mod tests {
    use crate::queue::*;
    use crate::sql::Stmt;
    use crate::{SqliteStore, StoreError};
    use switchyard_core::{InstanceId, Timestamp};

    async fn store_with_one_invocation() -> (SqliteStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("sy-row-{}", switchyard_core::ids::hex_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
        store
            .publish(&[NewEvent {
                instance: InstanceId::default_instance(),
                id: "e".into(),
                event_type: "t".into(),
                payload: "{}".into(),
                content_json: None,
                created_at: Timestamp(1),
                kind: InvocationKind::RealTime,
                invocations: vec![NewInvocation {
                    id: "i".into(),
                    secret_hash: None,
                    route_kind: RouteKind::Target,
                    route_id: "r".into(),
                    state: InitialState::Pending,
                    chain_next: None,
                    interrupt_on_error: false,
                    deadline_at: None,
                    gated: false,
                    order_key: None,
                }],
                response: "{}".into(),
            }])
            .await
            .unwrap();
        (store, dir)
    }

    async fn corrupt(store: &SqliteStore, column: &str, value: &str) {
        Stmt::new(format!("UPDATE invocations SET {column} = $1"))
            .bind(value)
            .execute(&mut store.write().await.unwrap())
            .await
            .unwrap();
    }

    fn internal(e: StoreError) -> String {
        match e {
            StoreError::Internal(e) => format!("{e:#}"),
            other => panic!("expected an internal error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn unknown_stored_values_are_errors_not_defaults() {
        let (s, dir) = store_with_one_invocation().await;
        let i = InstanceId::default_instance();
        assert_eq!(
            s.invocation(&i, "i").await.unwrap().route_kind,
            RouteKind::Target
        );

        corrupt(&s, "status", "expired").await;
        let e = internal(s.invocation(&i, "i").await.unwrap_err());
        assert!(e.contains("unknown invocation status 'expired'"), "{e}");

        corrupt(&s, "status", "pending").await;
        corrupt(&s, "route_kind", "webhook").await;
        let e = internal(
            s.claim_due(Timestamp(5), Timestamp(10), 10)
                .await
                .unwrap_err(),
        );
        assert!(e.contains("unknown route kind 'webhook'"), "{e}");

        corrupt(&s, "route_kind", "target").await;
        corrupt(&s, "kind", "REAL_TIME").await;
        let e = internal(s.invocation(&i, "i").await.unwrap_err());
        assert!(e.contains("unknown invocation kind 'REAL_TIME'"), "{e}");
        s.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
