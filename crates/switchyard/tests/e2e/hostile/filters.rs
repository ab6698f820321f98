//! Defects 2 and 4: JSONPath filters cannot crash or stall the server. Filters nested beyond the
//! limit are refused before parsing (no stack overflow), over-long ones by length, and filters
//! that would take exponential or polynomial time run out of their work budget, off the request
//! threads, while `/healthz` keeps answering and every publish is accepted.

use super::assert_responsive;
use crate::delivery::{invocation_for, publish, Receiver, SUBS};
use crate::support::TestServer;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const VALIDATE: &str = "/trigger-subscriptions/v1/validate-filter";
/// Bound on any single answer here: generous (debug builds, a shared machine), yet far below the
/// seconds to minutes (or the crash) these filters cost before.
const QUICK: Duration = Duration::from_secs(5);

/// POSTs `body` to `path`, asserting the answer came within [`QUICK`].
async fn timed_post(s: &TestServer, path: &str, body: Value) -> (u16, Value) {
    let t0 = Instant::now();
    let (st, v) = s.post(path, body).await;
    assert!(t0.elapsed() < QUICK, "{path} took {:?}", t0.elapsed());
    (st.as_u16(), v)
}

fn cause(v: &Value) -> String {
    v["causes"][0]["text"].as_str().unwrap_or("").to_string()
}

fn nested_filters(levels: usize) -> String {
    format!("${}{}", "[?@".repeat(levels), "]".repeat(levels))
}

#[tokio::test]
async fn deeply_nested_filters_are_refused_before_parsing() {
    let s = TestServer::start().await;
    let crashers = [
        format!("$[?{}@.a==1{}]", "(".repeat(1000), ")".repeat(1000)),
        nested_filters(200),
        format!("$[?{}@.a==1{}]", "(".repeat(20), ")".repeat(20)),
        nested_filters(22),
    ];
    for filter in &crashers {
        let (st, v) = timed_post(&s, VALIDATE, json!({"input": {"a": 1}, "filter": filter})).await;
        assert_eq!(st, 400, "{v}");
        let text = cause(&v);
        assert!(
            text.contains("nesting limit is 16") || text.contains("length limit is 2000"),
            "the answer does not name the limit: {v}"
        );
        let (st, v) = timed_post(
            &s,
            SUBS,
            json!({"name": "n", "triggerId": "idn:identity-created", "type": "HTTP",
                   "httpConfig": {"url": "https://example.com/h"}, "filter": filter}),
        )
        .await;
        assert_eq!(st, 400, "{v}");
        assert!(cause(&v).contains("limit"), "{v}");
    }
    assert_responsive(&s, QUICK).await;
    // Within the limits the same shapes are ordinary filters.
    let (st, v) = timed_post(
        &s,
        VALIDATE,
        json!({"input": {"a": [{"a": [1]}]}, "filter": nested_filters(3)}),
    )
    .await;
    assert_eq!((st, &v["isValidJSONPath"]), (200, &json!(true)), "{v}");
}

#[tokio::test]
async fn an_over_long_filter_is_refused() {
    let s = TestServer::start().await;
    let long = format!("$.a{}", "[0]".repeat(300_000));
    for path in [VALIDATE.to_string(), SUBS.to_string()] {
        let body = json!({"input": {}, "filter": long, "name": "n", "triggerId": "idn:identity-created",
                          "type": "HTTP", "httpConfig": {"url": "https://example.com/h"}});
        let body = if path == VALIDATE {
            json!({"input": {}, "filter": long})
        } else {
            body.as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| k.as_str() != "input")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let (st, v) = timed_post(&s, &path, body).await;
        assert_eq!(st, 400, "{path}: {v}");
        assert!(cause(&v).contains("length limit is 2000 characters"), "{v}");
    }
}

/// A wide, moderately deep payload within the publish limits.
fn wide_payload() -> Value {
    let people: Vec<Value> = (0..300)
        .map(|i| json!({"name": format!("p{i}"), "tags": [i, [i, [i, {"x": i}]]]}))
        .collect();
    json!({
        "identity": {"type": "IDENTITY", "id": "id-1", "name": "pat"},
        "attributes": {"department": "Ops", "people": people},
    })
}

#[tokio::test]
async fn expensive_filters_are_bounded_and_healthz_stays_fast() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    // validate-filter: the exponential and polynomial shapes answer quickly, at worst with a
    // 400 naming the budget.
    for filter in [
        nested_filters(15),
        "$..*..*..*..*..*".to_string(),
        "$..[?$..[?$..*]]".to_string(),
        "$..[?@..[?@..[?@..*]]]".to_string(),
    ] {
        let (st, v) = timed_post(
            &s,
            VALIDATE,
            json!({"input": wide_payload(), "filter": filter}),
        )
        .await;
        assert!(
            st == 200 || (st == 400 && cause(&v).contains("evaluation budget")),
            "{filter}: {st} {v}"
        );
    }
    // A 120-deep sample is refused by the payload depth limit before any filter runs.
    let mut deep = json!(1);
    for _ in 0..120 {
        deep = json!({ "a": deep });
    }
    let (st, v) = timed_post(
        &s,
        VALIDATE,
        json!({"input": {"d": deep}, "filter": "$..*..*..*..*..*"}),
    )
    .await;
    assert_eq!(st, 400, "{v}");
    assert!(cause(&v).contains("payload depth limit is 64"), "{v}");

    // Stored filters: one costly, one ordinary, both on the trigger every publish uses.
    let sub = |name: &str, filter: &str| {
        json!({"name": name, "triggerId": "idn:identity-created", "type": "HTTP",
               "httpConfig": {"url": r.url("/hook")}, "filter": filter})
    };
    let (st, costly) = s.post(SUBS, sub("costly", "$..[?$..[?$..*]]")).await;
    assert_eq!(st, 201, "{costly}");
    let (st, plain) = s
        .post(SUBS, sub("plain", "$[?($.identity.name == \"pat\")]"))
        .await;
    assert_eq!(st, 201, "{plain}");

    let publishes: Vec<_> = (0..8)
        .map(|_| {
            let s = &s;
            async move {
                let t0 = Instant::now();
                let p = publish(s, "idn:identity-created", wide_payload()).await;
                (p, t0.elapsed())
            }
        })
        .collect();
    let (results, ()) = tokio::join!(futures_util::future::join_all(publishes), async {
        for _ in 0..5 {
            assert_responsive(&s, Duration::from_secs(1)).await;
        }
    });
    for (p, took) in &results {
        assert!(*took < QUICK, "a publish took {took:?}");
        // The ordinary filter matched; the costly one ran out of budget and did not.
        invocation_for(p, plain["id"].as_str().unwrap());
        let routes: Vec<&Value> = p["invocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| &i["routeId"])
            .collect();
        assert!(!routes.contains(&&costly["id"]), "{p}");
    }
    r.wait_for(8, Duration::from_secs(10)).await;
    assert_responsive(&s, QUICK).await;
}
