//! Signing keys of targets (ZITADEL-Signature) and subscriptions (Standard Webhooks secrets).
//! A rotation adds a new current key and gives the previous ones an expiry: until then every
//! valid key signs, so receivers can switch over without dropping deliveries.

use switchyard_core::Timestamp;

/// Who a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOwner {
    Target,
    Subscription,
}

impl KeyOwner {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyOwner::Target => "target",
            KeyOwner::Subscription => "subscription",
        }
    }
}

/// One stored key, still sealed with the master key.
#[derive(Debug, Clone)]
pub struct SealedKey {
    pub key_id: String,
    pub sealed: String,
    pub created_at: Timestamp,
    /// `None` for the current key; set for a previous key in its grace period.
    pub expires_at: Option<Timestamp>,
}
