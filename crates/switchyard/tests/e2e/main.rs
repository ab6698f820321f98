//! End-to-end tests: each starts the real server on port 0 with a fresh data directory and drives
//! it over HTTP, as a client would. One test binary (modules below) keeps link time low.

mod auth;
mod calls;
mod cli;
mod console;
mod delivery;
mod health;
mod hostile;
mod invocations;
mod migrate;
mod request_response;
mod rotate;
mod sailpoint;
mod support;
mod surface;
mod transports;
mod zitadel;
