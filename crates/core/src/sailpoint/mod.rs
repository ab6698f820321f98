//! Domain types and rules of the sailpoint dialect's resources.
