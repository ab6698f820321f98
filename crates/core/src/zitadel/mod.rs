//! Domain types and rules of the zitadel dialect's resources.
