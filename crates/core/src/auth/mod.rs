//! Authorization vocabulary shared by the API, the CLI and the store: the scopes a token may carry
//! and the rate-limit rules a client is held to. Parsed once into types that cannot hold an
//! unknown scope or a zero-length window, so the request path only compares values.

mod rate;
mod scope;

pub use rate::{Bucket, RateLimit};
pub use scope::{Scope, Scopes};
