//! SQLite implementation of [`crate::SailPointStore`].

use super::SqliteStore;
use crate::SailPointStore;
use async_trait::async_trait;

#[async_trait]
impl SailPointStore for SqliteStore {}
