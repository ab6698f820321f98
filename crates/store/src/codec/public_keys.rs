//! Filtering, sorting and paging of a target's public keys with the core rules (a target holds
//! at most `MAX_KEYS_PER_TARGET` keys, so this is done on the loaded rows).

use crate::target_keys::{
    PublicKeyFilter, PublicKeyQuery, PublicKeySort, StoredPublicKey, TimestampMethod,
};
use crate::zitadel::Listing;
use std::cmp::Ordering;
use switchyard_core::Timestamp;

fn matches_time(method: TimestampMethod, at: Timestamp, expires: Option<Timestamp>) -> bool {
    // A key that never expires is later than every date.
    let o = expires.map_or(Ordering::Greater, |e| e.cmp(&at));
    match method {
        TimestampMethod::Equals => o == Ordering::Equal,
        TimestampMethod::After => o == Ordering::Greater,
        TimestampMethod::AfterOrEquals => o != Ordering::Less,
        TimestampMethod::Before => o == Ordering::Less,
        TimestampMethod::BeforeOrEquals => o != Ordering::Greater,
    }
}

fn matches(k: &StoredPublicKey, f: &PublicKeyFilter) -> bool {
    match f {
        PublicKeyFilter::Active(a) => k.active == *a,
        PublicKeyFilter::Expiration(m, at) => matches_time(*m, *at, k.expires_at),
        PublicKeyFilter::Ids(ids) => ids.contains(&k.key_id),
    }
}

fn compare(sort: PublicKeySort, a: &StoredPublicKey, b: &StoredPublicKey) -> Ordering {
    let never = |e: Option<Timestamp>| e.unwrap_or(Timestamp(i64::MAX));
    let primary = match sort {
        PublicKeySort::CreationDate => a.created_at.cmp(&b.created_at),
        PublicKeySort::ChangeDate => a.changed_at.cmp(&b.changed_at),
        PublicKeySort::ExpirationDate => never(a.expires_at).cmp(&never(b.expires_at)),
    };
    primary.then_with(|| a.key_id.cmp(&b.key_id))
}

/// Filters, sorts and pages; `total` counts every match.
pub fn select(all: Vec<StoredPublicKey>, query: &PublicKeyQuery) -> Listing<StoredPublicKey> {
    let mut hits: Vec<StoredPublicKey> = all
        .into_iter()
        .filter(|k| query.filters.iter().all(|f| matches(k, f)))
        .collect();
    hits.sort_by(|a, b| {
        let o = compare(query.sort, a, b);
        if query.page.asc {
            o
        } else {
            o.reverse()
        }
    });
    let total = hits.len() as u64;
    Listing {
        items: query.page.slice(hits),
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_without_expiry_are_later_than_every_date() {
        let at = Timestamp(1000);
        assert!(matches_time(TimestampMethod::After, at, None));
        assert!(!matches_time(TimestampMethod::Before, at, None));
        assert!(!matches_time(TimestampMethod::Equals, at, None));
        assert!(matches_time(TimestampMethod::BeforeOrEquals, at, Some(at)));
        assert!(matches_time(
            TimestampMethod::Before,
            at,
            Some(Timestamp(999))
        ));
        assert!(!matches_time(
            TimestampMethod::AfterOrEquals,
            at,
            Some(Timestamp(999))
        ));
    }
}
