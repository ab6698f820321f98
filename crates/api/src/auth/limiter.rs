//! Per-caller rate limiting. Buckets live in a sharded map of std mutexes held only for the
//! bucket arithmetic (never across an await), so the hot path costs one hash, one uncontended
//! lock and a few float operations. A caller's limit is resolved once, when its bucket is created
//! (a per-client override from the store, else the server default), and idle buckets are swept
//! so memory stays bounded by the number of recently active callers.

use super::Principal;
use crate::routes::RateClass;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use switchyard_core::auth::{Bucket, RateLimit};
use switchyard_store::ApiClient;

const SHARDS: usize = 16;
/// How often a shard is swept for idle buckets.
const SWEEP_EVERY_MS: i64 = 60_000;
/// An unlimited caller's entry (kept so its client lookup is cached) is dropped after this long
/// without a request, which also picks up changed per-client limits.
const FORGET_AFTER_MS: i64 = 300_000;

/// The server-wide defaults.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Management APIs (every dialect). Always on.
    pub management: RateLimit,
    /// The producer API; `None` = unlimited unless a client has its own limit.
    pub producer: Option<RateLimit>,
}

#[derive(Hash, PartialEq, Eq, Clone)]
struct Key {
    class: RateClass,
    instance: String,
    subject: String,
}

struct Entry {
    limit: Option<RateLimit>,
    bucket: Option<Bucket>,
    last_ms: i64,
}

#[derive(Default)]
struct Shard {
    entries: HashMap<Key, Entry>,
    swept_ms: i64,
}

/// The limiter shared by all requests.
pub struct RateLimiter {
    limits: Limits,
    shards: Vec<Mutex<Shard>>,
}

/// What [`RateLimiter::check`] decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Refused; retry after this many whole seconds.
    Refuse(u64),
    /// The caller has no bucket yet: resolve its limit (possibly from the store) and call
    /// [`RateLimiter::admit`].
    Unknown,
}

impl RateLimiter {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    /// Counts a request against an existing bucket.
    pub fn check(&self, class: RateClass, who: &Principal, now_ms: i64) -> Decision {
        let key = key(class, who);
        let mut shard = self.shard(&key);
        match shard.entries.get_mut(&key) {
            Some(e) => {
                e.last_ms = now_ms;
                take(e, now_ms)
            }
            None => Decision::Unknown,
        }
    }

    /// Creates the caller's bucket with the limit resolved from `client` (the stored client whose
    /// id is the token's subject, if any) and counts the request.
    pub fn admit(
        &self,
        class: RateClass,
        who: &Principal,
        client: Option<&ApiClient>,
        now_ms: i64,
    ) -> Decision {
        // A client's override applies only to tokens of its own instance.
        let client = client.filter(|c| c.instance == who.instance);
        let limit = match class {
            RateClass::Management => Some(
                client
                    .and_then(|c| c.management_limit)
                    .unwrap_or(self.limits.management),
            ),
            RateClass::Producer => client
                .and_then(|c| c.producer_limit)
                .or(self.limits.producer),
        };
        let key = key(class, who);
        let mut shard = self.shard(&key);
        sweep(&mut shard, now_ms);
        let entry = shard.entries.entry(key).or_insert(Entry {
            limit,
            bucket: limit.map(|l| Bucket::full(l, now_ms)),
            last_ms: now_ms,
        });
        entry.last_ms = now_ms;
        take(entry, now_ms)
    }

    /// The server-wide defaults.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn shard(&self, key: &Key) -> std::sync::MutexGuard<'_, Shard> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        let i = (h.finish() as usize) % self.shards.len();
        // A panic while holding the lock cannot leave a bucket half-updated in a harmful way.
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap().entries.len())
            .sum()
    }
}

fn key(class: RateClass, who: &Principal) -> Key {
    Key {
        class,
        instance: who.instance.as_str().to_string(),
        subject: who.subject.clone(),
    }
}

fn take(e: &mut Entry, now_ms: i64) -> Decision {
    match (e.limit, e.bucket.as_mut()) {
        (Some(l), Some(b)) => match b.take(l, now_ms) {
            Ok(()) => Decision::Allow,
            Err(secs) => Decision::Refuse(secs),
        },
        _ => Decision::Allow,
    }
}

fn sweep(shard: &mut Shard, now_ms: i64) {
    if now_ms - shard.swept_ms < SWEEP_EVERY_MS {
        return;
    }
    shard.swept_ms = now_ms;
    shard.entries.retain(|_, e| {
        let recently_used = now_ms - e.last_ms < FORGET_AFTER_MS;
        match (e.limit, &e.bucket) {
            (Some(l), Some(b)) => !b.is_idle(l, now_ms) && recently_used,
            _ => recently_used,
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use switchyard_core::auth::Scopes;
    use switchyard_core::{InstanceId, Timestamp};

    fn who(sub: &str, inst: &str) -> Principal {
        Principal {
            subject: sub.into(),
            instance: InstanceId::parse(inst).unwrap(),
            scopes: Scopes::default(),
            client: None,
        }
    }

    fn limiter(producer: Option<RateLimit>) -> RateLimiter {
        RateLimiter::new(Limits {
            management: RateLimit::new(2, Duration::from_secs(10)).unwrap(),
            producer,
        })
    }

    fn client(inst: &str, mgmt: Option<&str>, prod: Option<&str>) -> ApiClient {
        ApiClient {
            id: "c1".into(),
            instance: InstanceId::parse(inst).unwrap(),
            secret_hash: String::new(),
            scopes: Scopes::default(),
            management_limit: mgmt.map(|s| RateLimit::parse(s).unwrap()),
            producer_limit: prod.map(|s| RateLimit::parse(s).unwrap()),
            created_at: Timestamp::default(),
        }
    }

    #[test]
    fn management_default_applies_per_subject_and_instance() {
        let l = limiter(None);
        let a = who("a", "i1");
        assert_eq!(l.check(RateClass::Management, &a, 0), Decision::Unknown);
        assert_eq!(l.admit(RateClass::Management, &a, None, 0), Decision::Allow);
        assert_eq!(l.check(RateClass::Management, &a, 0), Decision::Allow);
        assert_eq!(l.check(RateClass::Management, &a, 0), Decision::Refuse(5));
        // Another subject, or the same subject in another instance, has its own bucket.
        assert_eq!(
            l.admit(RateClass::Management, &who("b", "i1"), None, 0),
            Decision::Allow
        );
        assert_eq!(
            l.admit(RateClass::Management, &who("a", "i2"), None, 0),
            Decision::Allow
        );
    }

    #[test]
    fn producer_is_unlimited_by_default_but_clients_can_be_limited() {
        let l = limiter(None);
        let a = who("a", "i1");
        assert_eq!(l.admit(RateClass::Producer, &a, None, 0), Decision::Allow);
        for _ in 0..10_000 {
            assert_eq!(l.check(RateClass::Producer, &a, 0), Decision::Allow);
        }
        let c = client("i1", None, Some("1/1s"));
        let b = who("c1", "i1");
        assert_eq!(
            l.admit(RateClass::Producer, &b, Some(&c), 0),
            Decision::Allow
        );
        assert_eq!(l.check(RateClass::Producer, &b, 0), Decision::Refuse(1));
        // A global producer limit applies to everyone.
        let g = limiter(Some(RateLimit::parse("1/2s").unwrap()));
        assert_eq!(g.admit(RateClass::Producer, &a, None, 0), Decision::Allow);
        assert_eq!(g.check(RateClass::Producer, &a, 0), Decision::Refuse(2));
    }

    #[test]
    fn client_overrides_apply_only_in_the_clients_instance() {
        let l = limiter(None);
        let c = client("i1", Some("1/1s"), None);
        let mine = who("c1", "i1");
        assert_eq!(
            l.admit(RateClass::Management, &mine, Some(&c), 0),
            Decision::Allow
        );
        assert_eq!(
            l.check(RateClass::Management, &mine, 0),
            Decision::Refuse(1)
        );
        let other = who("c1", "i2");
        assert_eq!(
            l.admit(RateClass::Management, &other, Some(&c), 0),
            Decision::Allow
        );
        assert_eq!(l.check(RateClass::Management, &other, 0), Decision::Allow);
    }

    #[test]
    fn idle_buckets_are_evicted() {
        let l = limiter(None);
        for i in 0..100 {
            l.admit(RateClass::Management, &who(&format!("s{i}"), "i"), None, 0);
        }
        assert_eq!(l.len(), 100);
        // Long after: every bucket has refilled; the next admissions sweep them away.
        let later = FORGET_AFTER_MS + SWEEP_EVERY_MS;
        for i in 0..200 {
            l.admit(
                RateClass::Management,
                &who(&format!("t{i}"), "i"),
                None,
                later,
            );
        }
        assert_eq!(l.len(), 200, "old buckets are gone, new ones stay");
    }
}
