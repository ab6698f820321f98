//! What the startup line says about the server: the storage it uses, named without secrets
//! (a PostgreSQL URL loses its user, password and parameters), so the line can go to any log.

use std::path::Path;

/// `sqlite:<path>` or `postgresql://<host>[:port]/<database>`.
pub fn storage_summary(database_url: &str, sqlite_path: &Path) -> String {
    if database_url.is_empty() {
        return format!("sqlite:{}", sqlite_path.display());
    }
    let rest = database_url
        .split_once("://")
        .map_or(database_url, |(_, rest)| rest);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.is_empty() { "localhost" } else { host };
    format!("postgresql://{host}/{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_is_named_without_credentials() {
        let p = Path::new("/var/lib/switchyard/switchyard.db");
        assert_eq!(
            storage_summary("", p),
            "sqlite:/var/lib/switchyard/switchyard.db"
        );
        for (url, shown) in [
            (
                "postgres://sy:s3cr%40t@db.internal:5433/hooks?sslmode=require&password=x",
                "postgresql://db.internal:5433/hooks",
            ),
            ("postgresql://db/hooks", "postgresql://db/hooks"),
            ("postgres://u:p@w@[::1]/d", "postgresql://[::1]/d"),
            (
                "postgres:///d?host=/run/postgresql",
                "postgresql://localhost/d",
            ),
        ] {
            let got = storage_summary(url, p);
            assert_eq!(got, shown, "{url}");
            assert!(!got.contains("s3cr") && !got.contains("password"), "{got}");
        }
    }
}
