//! End-to-end tests of hostile input (issue 10): whatever a tenant sends, the server neither
//! reaches internal addresses nor crashes, stalls or slows down for others. One test per defect:
//!
//! | defect | tests |
//! |---|---|
//! | 1 outbound protection bypassed by other spellings | `outbound::every_bypass_spelling_is_refused_at_creation_on_every_surface`, `outbound::stored_routes_are_refused_at_connect_time_without_retries`, `outbound::a_refused_rest_call_target_returns_nothing_internal` |
//! | 2 stack overflow from nested filters | `filters::deeply_nested_filters_are_refused_before_parsing` |
//! | 3 memory bomb by JSON Patch | `patches::a_doubling_patch_is_refused_with_the_document_limit` |
//! | 4 exponential filter time | `filters::expensive_filters_are_bounded_and_healthz_stays_fast` |
//! | 5 lesser defects | `filters::an_over_long_filter_is_refused` (900 KB filter), `limits::names_refuse_control_characters`, `limits::executions_refuse_repeated_targets_and_long_lists`, `limits::the_data_directory_and_database_files_are_owner_only`, `outbound::stored_routes_are_refused_at_connect_time_without_retries` (no retries), `crate::auth::requests_without_a_valid_token_get_401_in_each_dialect` (`nbf`) |
//! | payload limits | `limits::documents_beyond_the_payload_limits_are_refused_everywhere` |

mod filters;
mod limits;
mod outbound;
mod patches;

use crate::support::TestServer;
use std::time::{Duration, Instant};

/// Asserts `/healthz` answers within `within` (the runtime is not blocked).
pub async fn assert_responsive(s: &TestServer, within: Duration) {
    let t0 = Instant::now();
    let resp = s
        .client
        .get(s.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert!(
        resp.status().is_success(),
        "healthz answered {}",
        resp.status()
    );
    let took = t0.elapsed();
    assert!(took < within, "healthz took {took:?}");
}
