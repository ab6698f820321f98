//! AWS region names accepted for EventBridge subscriptions. Upstream points at AWS's region list;
//! keeping it here lets a typo (`us-west-3`) fail at subscription time instead of at delivery.

/// Commercial, GovCloud and China regions where EventBridge partner event sources exist.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// True when `name` is a known AWS region.
pub fn is_region(name: &str) -> bool {
    REGIONS.contains(&name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_and_unknown_regions() {
        assert!(super::is_region("us-west-1"));
        assert!(super::is_region("eu-central-1"));
        assert!(!super::is_region("us-west-3"));
        assert!(!super::is_region("US-WEST-1"));
    }
}
