//! Revocation of API clients reaches their tokens. A token `/oauth/token` issued names its
//! client (`client_id`); before such a token is accepted the client must still exist. The answer
//! is kept for a second per client, so a busy client costs one lookup a second rather than one a
//! request: a revocation stops its tokens at once on the node that revoked it (which forgets the
//! client) and within a second on every other node and after `switchyard clients revoke`.

use std::collections::HashMap;
use std::sync::Mutex;

/// How long a successful check stands, in milliseconds.
const TRUSTED_FOR_MS: i64 = 1_000;
/// Clients remembered at most; past it the memory starts over (a lookup each is cheap).
const MOST: usize = 10_000;

/// Clients known to exist, with when that was last checked.
#[derive(Debug, Default)]
pub struct LiveClients {
    checked: Mutex<HashMap<String, i64>>,
}

impl LiveClients {
    /// Whether `id` was found to exist less than a second before `now_ms`.
    pub fn recently_seen(&self, id: &str, now_ms: i64) -> bool {
        let checked = self.checked.lock().unwrap_or_else(|e| e.into_inner());
        checked
            .get(id)
            .is_some_and(|at| now_ms.saturating_sub(*at) < TRUSTED_FOR_MS)
    }

    /// Records that `id` exists at `now_ms`.
    pub fn seen(&self, id: &str, now_ms: i64) {
        let mut checked = self.checked.lock().unwrap_or_else(|e| e.into_inner());
        if checked.len() >= MOST && !checked.contains_key(id) {
            checked.clear();
        }
        checked.insert(id.to_string(), now_ms);
    }

    /// Forgets `id` (it was revoked here): its next token is checked against the store.
    pub fn forget(&self, id: &str) {
        let mut checked = self.checked.lock().unwrap_or_else(|e| e.into_inner());
        checked.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_stands_for_a_second_and_forgetting_ends_it() {
        let live = LiveClients::default();
        assert!(!live.recently_seen("c", 0));
        live.seen("c", 1_000);
        assert!(live.recently_seen("c", 1_999));
        assert!(!live.recently_seen("c", 2_000));
        live.seen("c", 3_000);
        live.forget("c");
        assert!(!live.recently_seen("c", 3_001));
    }
}
