//! Broker destinations on the machine's real services, one module per transport: each test makes
//! its own subjects and streams (unique names) and removes what it made. With `CI` set, a
//! broker that cannot be reached fails the test instead of skipping it.

mod nats;
mod redis;
