//! SQLite implementation of [`crate::ZitadelStore`].

use super::SqliteStore;
use crate::ZitadelStore;
use async_trait::async_trait;

#[async_trait]
impl ZitadelStore for SqliteStore {}
