//! A statement and its parameters, independent of the driver: SQL text with `$N` placeholders
//! (which both PostgreSQL and sqlx's SQLite driver accept) and the values to bind, in order.
//! Multi-row inserts are built with [`Stmt::values`], which numbers the placeholders.

use super::{Conn, FromSqlRow, Sql};
use std::borrow::Cow;
use std::fmt::Write;
use switchyard_core::invocation::{
    AttemptOutcome, CallAttemptOutcome, DestinationKind, InvocationKind, InvocationStatus,
    RouteKind,
};
use switchyard_core::{InstanceId, Timestamp};

/// One bound value. Text and integers carry their type even when NULL: PostgreSQL needs it.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Text(Option<Cow<'a, str>>),
    Int(Option<i64>),
    Bool(bool),
    /// A list of ids, matched with [`super::Dialect::in_list`].
    List(&'a [String]),
}

/// SQL text with its parameters.
#[derive(Debug, Clone)]
pub struct Stmt<'a> {
    sql: Cow<'a, str>,
    pub(super) args: Vec<Arg<'a>>,
}

impl<'a> Stmt<'a> {
    pub fn new(sql: impl Into<Cow<'a, str>>) -> Self {
        Stmt {
            sql: sql.into(),
            args: Vec::new(),
        }
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// Binds the next parameter (`$1`, `$2`, … in the order of the calls).
    pub fn bind(mut self, value: impl Into<Arg<'a>>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Binds a list of ids (see [`super::Dialect::in_list`]).
    pub fn bind_list(mut self, ids: &'a [String]) -> Self {
        self.args.push(Arg::List(ids));
        self
    }

    /// Appends text.
    pub fn push(mut self, sql: &str) -> Self {
        self.sql.to_mut().push_str(sql);
        self
    }

    /// Appends `VALUES (…), (…)` with one tuple per item; `row` binds one item's columns.
    pub fn values<T>(mut self, items: &'a [T], row: impl Fn(&mut Tuple<'a, '_>, &'a T)) -> Self {
        let sql = self.sql.to_mut();
        sql.push_str(" VALUES ");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            let mut tuple = Tuple {
                sql: &mut *sql,
                args: &mut self.args,
                first: true,
            };
            row(&mut tuple, item);
            sql.push(')');
        }
        self
    }

    /// Runs the statement; returns how many rows it changed.
    pub async fn execute<C: Conn + ?Sized>(&self, conn: &mut C) -> Result<u64, sqlx::Error> {
        C::Db::execute(conn.raw(), self).await
    }

    /// Every row, decoded.
    pub async fn fetch_all<T: FromSqlRow, C: Conn + ?Sized>(
        &self,
        conn: &mut C,
    ) -> Result<Vec<T>, sqlx::Error> {
        C::Db::fetch_all(conn.raw(), self).await
    }

    /// The first row, if any.
    pub async fn fetch_optional<T: FromSqlRow, C: Conn + ?Sized>(
        &self,
        conn: &mut C,
    ) -> Result<Option<T>, sqlx::Error> {
        C::Db::fetch_optional(conn.raw(), self).await
    }

    /// The first row; `RowNotFound` (the store's `NotFound`) when there is none.
    pub async fn fetch_one<T: FromSqlRow, C: Conn + ?Sized>(
        &self,
        conn: &mut C,
    ) -> Result<T, sqlx::Error> {
        self.fetch_optional(conn)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }
}

/// The parameters of one row of [`Stmt::values`].
pub struct Tuple<'a, 'b> {
    sql: &'b mut String,
    args: &'b mut Vec<Arg<'a>>,
    first: bool,
}

impl<'a> Tuple<'a, '_> {
    /// Binds the row's next column.
    pub fn bind(&mut self, value: impl Into<Arg<'a>>) -> &mut Self {
        self.args.push(value.into());
        if !self.first {
            self.sql.push_str(", ");
        }
        self.first = false;
        let _ = write!(self.sql, "${}", self.args.len());
        self
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}

impl From<String> for Arg<'_> {
    fn from(v: String) -> Self {
        Arg::Text(Some(Cow::Owned(v)))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v.map(Cow::Borrowed))
    }
}

impl From<Option<String>> for Arg<'_> {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v.map(Cow::Owned))
    }
}

impl<'a> From<&'a InstanceId> for Arg<'a> {
    fn from(v: &'a InstanceId) -> Self {
        Arg::from(v.as_str())
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<u32> for Arg<'_> {
    fn from(v: u32) -> Self {
        Arg::Int(Some(i64::from(v)))
    }
}

impl From<u64> for Arg<'_> {
    fn from(v: u64) -> Self {
        Arg::Int(Some(i64::try_from(v).unwrap_or(i64::MAX)))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl From<Option<u16>> for Arg<'_> {
    fn from(v: Option<u16>) -> Self {
        Arg::Int(v.map(i64::from))
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

impl From<Timestamp> for Arg<'_> {
    fn from(v: Timestamp) -> Self {
        Arg::Int(Some(v.millis()))
    }
}

impl From<Option<Timestamp>> for Arg<'_> {
    fn from(v: Option<Timestamp>) -> Self {
        Arg::Int(v.map(Timestamp::millis))
    }
}

/// Text enums bind as their spelling.
macro_rules! bind_as_text {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg<'_> {
            fn from(v: $t) -> Self {
                Arg::Text(Some(Cow::Borrowed(v.as_str())))
            }
        }
    )*};
}

bind_as_text!(
    InvocationStatus,
    RouteKind,
    InvocationKind,
    CallAttemptOutcome,
    DestinationKind,
    AttemptOutcome
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_number_placeholders_after_earlier_binds() {
        let rows = [(1i64, "a"), (2, "b")];
        let stmt = Stmt::new("INSERT INTO t (n, s)").values(&rows, |t, (n, s)| {
            t.bind(*n).bind(*s);
        });
        assert_eq!(stmt.sql(), "INSERT INTO t (n, s) VALUES ($1, $2), ($3, $4)");
        assert_eq!(stmt.args.len(), 4);
    }
}
