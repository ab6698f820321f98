//! The one SQL layer. Every statement the store runs is written here once, with `$N`
//! placeholders, and runs on SQLite and PostgreSQL alike through [`SqlStore`], generic over a
//! [`Backend`]. A backend (`crate::sqlite`, `crate::postgres`) holds only what truly differs: its
//! pools, wake-ups, locks, row-lock clauses, one JSON expression and its migrations.

mod backend;
mod calls;
mod clients;
mod driver;
pub(crate) mod health;
mod instances;
mod keys;
pub(crate) mod migrate;
pub(crate) mod policy;
mod queue;
pub(crate) mod retention;
mod row;
mod sailpoint;
mod search;
mod secrets;
mod stmt;
mod web_keys;
mod zitadel;

pub use backend::{finish, Backend, Relaxed, RelaxedTx, SqlStore};
pub use driver::{Col, Dialect, Sql};
pub(crate) use row::sql_row;
pub use row::{Column, FromSqlRow};
pub use stmt::{Arg, Stmt, Tuple};
pub use web_keys::MAX_PUBLISHED as MAX_PUBLISHED_WEB_KEYS;

use sqlx::pool::PoolConnection;
use sqlx::{Database, Transaction};

/// Something a statement can run on: a transaction or a pooled connection.
pub trait Conn: Send {
    type Db: Sql;
    fn raw(&mut self) -> &mut <Self::Db as Database>::Connection;
}

impl<DB: Sql> Conn for Transaction<'_, DB> {
    type Db = DB;
    fn raw(&mut self) -> &mut DB::Connection {
        self
    }
}

impl<DB: Sql> Conn for PoolConnection<DB> {
    type Db = DB;
    fn raw(&mut self) -> &mut DB::Connection {
        self
    }
}
