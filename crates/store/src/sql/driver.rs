//! The store's one contact with sqlx's drivers. [`Sql`] runs a [`Stmt`] on a connection and reads
//! columns; it is implemented once, for every driver that meets its bounds, so the sqlx trait
//! bounds are spelled here and nowhere else, and the rest of the store stays generic over a single
//! `DB: Sql` (Rust does not carry a trait's `where` clauses to its users; a blanket impl of a local
//! trait does). [`Dialect`] holds the few value-level differences between SQLite and PostgreSQL.

use super::stmt::{Arg, Stmt};
use super::FromSqlRow;
use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};

/// A statement bound for driver `DB`.
pub type Bound<'q, DB> = Query<'q, DB, <DB as Database>::Arguments<'q>>;

/// What the two drivers spell differently at the value level.
pub trait Dialect: Database {
    /// SQL (after a column) that matches any id of the list bound as parameter `$n`.
    fn in_list(n: usize) -> String;

    /// Binds a list of ids for [`Dialect::in_list`].
    fn bind_list<'q>(query: Bound<'q, Self>, ids: &'q [String]) -> Bound<'q, Self>;

    /// How many rows a statement changed.
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// The statement text as this driver runs it.
    fn sql(text: &str) -> SqlText<'_> {
        SqlText::Borrowed(text)
    }
}

/// A statement's text as a driver runs it: the text itself, a rewrite of it, or a rewrite kept
/// from an earlier run.
pub enum SqlText<'a> {
    Borrowed(&'a str),
    Owned(String),
    Shared(Arc<str>),
}

impl std::ops::Deref for SqlText<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            SqlText::Borrowed(s) => s,
            SqlText::Owned(s) => s,
            SqlText::Shared(s) => s,
        }
    }
}

impl PartialEq<&str> for SqlText<'_> {
    fn eq(&self, other: &&str) -> bool {
        &**self == *other
    }
}

impl std::fmt::Debug for SqlText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl Dialect for sqlx::Sqlite {
    fn in_list(n: usize) -> String {
        // One parameter whatever the length: one cached statement, no limit on bound values.
        format!("IN (SELECT value FROM json_each(${n}))")
    }

    fn bind_list<'q>(query: Bound<'q, Self>, ids: &'q [String]) -> Bound<'q, Self> {
        query.bind(serde_json::Value::from(ids).to_string())
    }

    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }

    /// `$N` becomes `?` where the parameters appear once each, in order (every multi-row
    /// insert), else `?N`. SQLite treats `$N` as a name, and keeps every name or number it saw
    /// in a list that both preparing and binding search linearly: quadratic in the number of
    /// parameters, which made a 500-row insert cost more than the rest of a publish.
    ///
    /// Short statements, the ones run over and over, are rewritten once and kept (the rewrite
    /// cost ~5 % of a publish's instructions); long ones are multi-row inserts whose text
    /// changes with the batch size and whose rewrite is small beside the rows they carry.
    fn sql(text: &str) -> SqlText<'_> {
        const CACHED_UP_TO: usize = 2048;
        const MOST_ENTRIES: usize = 1024;
        static REWRITTEN: std::sync::LazyLock<RwLock<HashMap<String, Arc<str>>>> =
            std::sync::LazyLock::new(RwLock::default);
        if text.len() > CACHED_UP_TO {
            return rewrite(text);
        }
        if let Some(done) = REWRITTEN
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(text)
        {
            return SqlText::Shared(done.clone());
        }
        let done = rewrite(text);
        let mut cache = REWRITTEN.write().unwrap_or_else(|e| e.into_inner());
        if cache.len() < MOST_ENTRIES {
            cache.insert(text.to_string(), Arc::from(&*done));
        }
        done
    }
}

fn rewrite(text: &str) -> SqlText<'_> {
    placeholders(text, false)
        .or_else(|| placeholders(text, true))
        .map_or(SqlText::Borrowed(text), SqlText::Owned)
}

/// Rewrites each `$N` outside quoted literals and identifiers to `?` (`numbered`: `?N`);
/// `None` when there is none, or when plain `?` cannot keep the meaning (a parameter repeated
/// or out of order).
fn placeholders(text: &str, numbered: bool) -> Option<String> {
    if !text.contains('$') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<u8> = None;
    let mut next = 1u64;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) if c == q => quote = None,
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if c == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let number = &text[i + 1..i + 1 + digits];
                out.push('?');
                if numbered {
                    out.push_str(number);
                } else if number.parse::<u64>().ok() != Some(next) {
                    return None;
                }
                next += 1;
                i += 1 + digits;
                continue;
            }
            _ => {}
        }
        // Multi-byte UTF-8 is copied byte by byte through the whole character.
        let len = utf8_len(c);
        out.push_str(&text[i..i + len]);
        i += len;
    }
    Some(out)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

impl Dialect for sqlx::Postgres {
    fn in_list(n: usize) -> String {
        format!("= ANY(${n})")
    }

    fn bind_list<'q>(query: Bound<'q, Self>, ids: &'q [String]) -> Bound<'q, Self> {
        query.bind(ids)
    }

    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

/// A column named or numbered.
#[derive(Debug, Clone, Copy)]
pub enum Col<'a> {
    Name(&'a str),
    At(usize),
}

/// Runs statements and reads columns on any driver (see the module docs).
pub trait Sql: Dialect {
    /// Runs a statement; returns how many rows it changed.
    fn execute<'c>(
        conn: &'c mut Self::Connection,
        stmt: &'c Stmt<'_>,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c;

    /// Runs a query and decodes every row.
    fn fetch_all<'c, T: FromSqlRow>(
        conn: &'c mut Self::Connection,
        stmt: &'c Stmt<'_>,
    ) -> impl Future<Output = Result<Vec<T>, sqlx::Error>> + Send + 'c;

    /// Runs a query and decodes its first row, if any.
    fn fetch_optional<'c, T: FromSqlRow>(
        conn: &'c mut Self::Connection,
        stmt: &'c Stmt<'_>,
    ) -> impl Future<Output = Result<Option<T>, sqlx::Error>> + Send + 'c;

    /// Runs several statements without parameters (a migration).
    fn run_script<'c>(
        conn: &'c mut Self::Connection,
        sql: &'c str,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;

    fn text(row: &Self::Row, col: Col<'_>) -> Result<Option<String>, sqlx::Error>;
    fn int(row: &Self::Row, col: Col<'_>) -> Result<Option<i64>, sqlx::Error>;
    fn boolean(row: &Self::Row, col: Col<'_>) -> Result<Option<bool>, sqlx::Error>;
}

fn bind<'q, DB>(sql: &'q str, stmt: &'q Stmt<'_>) -> Bound<'q, DB>
where
    DB: Dialect,
    for<'a> Option<&'a str>: Encode<'a, DB> + Type<DB>,
    Option<i64>: for<'a> Encode<'a, DB> + Type<DB>,
    bool: for<'a> Encode<'a, DB> + Type<DB>,
{
    stmt.args
        .iter()
        .fold(sqlx::query::<DB>(sql), |q, arg| match arg {
            Arg::Text(v) => q.bind(v.as_deref()),
            Arg::Int(v) => q.bind(*v),
            Arg::Bool(v) => q.bind(*v),
            Arg::List(ids) => DB::bind_list(q, ids),
        })
}

fn get<'r, T, DB>(row: &'r DB::Row, col: Col<'_>) -> Result<Option<T>, sqlx::Error>
where
    DB: Database,
    T: Decode<'r, DB> + Type<DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    match col {
        Col::Name(name) => row.try_get(name),
        Col::At(i) => row.try_get(i),
    }
}

impl<DB> Sql for DB
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'a> Option<&'a str>: Encode<'a, DB> + Type<DB>,
    Option<i64>: for<'a> Encode<'a, DB> + Type<DB>,
    i64: for<'a> Decode<'a, DB> + Type<DB>,
    bool: for<'a> Encode<'a, DB> + for<'a> Decode<'a, DB> + Type<DB>,
    String: for<'a> Decode<'a, DB> + Type<DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn execute<'c>(
        conn: &'c mut Self::Connection,
        stmt: &'c Stmt<'_>,
    ) -> Result<u64, sqlx::Error> {
        let sql = DB::sql(stmt.sql());
        let done = bind::<DB>(&sql, stmt).execute(conn).await?;
        Ok(DB::rows_affected(&done))
    }

    async fn fetch_all<'c, T: FromSqlRow>(
        conn: &'c mut Self::Connection,
        stmt: &'c Stmt<'_>,
    ) -> Result<Vec<T>, sqlx::Error> {
        let sql = DB::sql(stmt.sql());
        let rows = bind::<DB>(&sql, stmt).fetch_all(conn).await?;
        rows.iter().map(T::from_row::<DB>).collect()
    }

    async fn fetch_optional<'c, T: FromSqlRow>(
        conn: &'c mut Self::Connection,
        stmt: &'c Stmt<'_>,
    ) -> Result<Option<T>, sqlx::Error> {
        let sql = DB::sql(stmt.sql());
        let row = bind::<DB>(&sql, stmt).fetch_optional(conn).await?;
        row.as_ref().map(T::from_row::<DB>).transpose()
    }

    async fn run_script<'c>(
        conn: &'c mut Self::Connection,
        sql: &'c str,
    ) -> Result<(), sqlx::Error> {
        conn.execute(sqlx::raw_sql(sql)).await?;
        Ok(())
    }

    fn text(row: &Self::Row, col: Col<'_>) -> Result<Option<String>, sqlx::Error> {
        get::<String, DB>(row, col)
    }

    fn int(row: &Self::Row, col: Col<'_>) -> Result<Option<i64>, sqlx::Error> {
        get::<i64, DB>(row, col)
    }

    fn boolean(row: &Self::Row, col: Col<'_>) -> Result<Option<bool>, sqlx::Error> {
        get::<bool, DB>(row, col)
    }
}

#[cfg(test)]
mod tests {
    use super::Dialect;
    use sqlx::Sqlite;

    #[test]
    fn sqlite_gets_plain_placeholders_when_in_order_numbered_otherwise() {
        assert_eq!(
            Sqlite::sql("INSERT INTO t VALUES ($1, '$2', $2), ($3, \"$9\", $4)"),
            "INSERT INTO t VALUES (?, '$2', ?), (?, \"$9\", ?)"
        );
        assert_eq!(
            Sqlite::sql("UPDATE t SET d = json_set(d, '$.a', $2), é = $1 WHERE id = $2"),
            "UPDATE t SET d = json_set(d, '$.a', ?2), é = ?1 WHERE id = ?2"
        );
        assert_eq!(Sqlite::sql("SELECT 1"), "SELECT 1");
    }
}
