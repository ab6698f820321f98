//! End-to-end tests of the sailpoint dialect.
