//! End-to-end tests of the zitadel dialect.
