//! Behaviour checked against RFC 9535's own examples (sections 1.5, 2.3 and 2.4), the typing and
//! syntax rules, and the hostile queries of issue 10.

use super::*;
use serde_json::json;
use std::time::{Duration, Instant};

const PLENTY: u64 = 10_000_000;

fn q(path: &str, doc: &Value) -> Vec<Value> {
    let p = JsonPath::parse(path, &Limits::default())
        .unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
    p.query(doc, &mut Budget::new(PLENTY))
        .unwrap()
        .into_iter()
        .cloned()
        .collect()
}

fn invalid(path: &str) -> bool {
    matches!(
        JsonPath::parse(path, &Limits::default()),
        Err(ParseError::Invalid { .. })
    )
}

fn bookstore() -> Value {
    json!({ "store": {
        "book": [
          { "category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95 },
          { "category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99 },
          { "category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99 },
          { "category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99 }
        ],
        "bicycle": { "color": "red", "price": 399 }
    }})
}

#[test]
fn bookstore_examples() {
    let d = bookstore();
    assert_eq!(q("$.store.book[*].author", &d).len(), 4);
    assert_eq!(q("$..author", &d).len(), 4);
    assert_eq!(q("$.store.*", &d).len(), 2);
    assert_eq!(q("$.store..price", &d).len(), 5);
    assert_eq!(q("$..book[2]", &d)[0]["title"], "Moby Dick");
    assert_eq!(q("$..book[2].author", &d), vec![json!("Herman Melville")]);
    assert_eq!(q("$..book[2].publisher", &d), Vec::<Value>::new());
    assert_eq!(q("$..book[-1]", &d)[0]["title"], "The Lord of the Rings");
    assert_eq!(q("$..book[0,1]", &d).len(), 2);
    assert_eq!(q("$..book[:2]", &d).len(), 2);
    assert_eq!(q("$..book[?@.isbn]", &d).len(), 2);
    assert_eq!(q("$..book[?@.price<10]", &d).len(), 2);
    assert_eq!(q("$..*", &d).len(), 27);
}

#[test]
fn selectors() {
    let d =
        json!({"o": {"j j": {"k.k": 3}}, "'": {"@": 2}, "a": ["a", "b", "c", "d", "e", "f", "g"]});
    assert_eq!(q("$.o['j j']", &d), vec![json!({"k.k": 3})]);
    assert_eq!(q("$.o['j j']['k.k']", &d), vec![json!(3)]);
    assert_eq!(q(r#"$.o["j j"]["k.k"]"#, &d), vec![json!(3)]);
    assert_eq!(q(r#"$["'"]["@"]"#, &d), vec![json!(2)]);
    assert_eq!(q("$.a[1:3]", &d), vec![json!("b"), json!("c")]);
    assert_eq!(q("$.a[5:]", &d), vec![json!("f"), json!("g")]);
    assert_eq!(q("$.a[1:5:2]", &d), vec![json!("b"), json!("d")]);
    assert_eq!(q("$.a[5:1:-2]", &d), vec![json!("f"), json!("d")]);
    assert_eq!(q("$.a[::-1]", &d)[0], json!("g"));
    assert_eq!(q("$.a[::0]", &d), Vec::<Value>::new());
    assert_eq!(q("$.a[-2]", &d), vec![json!("f")]);
    assert_eq!(q("$.a[-8]", &d), Vec::<Value>::new());
    assert_eq!(q("$.a[0, 0]", &d).len(), 2, "duplicates are kept");
    assert_eq!(q("$['\\u0061']", &d).len(), 1, "escapes in names");
    assert_eq!(q("$['\\ud83d\\ude00']", &json!({"😀": 1})), vec![json!(1)]);
}

#[test]
fn descendants_in_document_order() {
    let d = json!({"o": {"j": 1, "k": 2}, "a": [5, 3, [{"j": 4}, {"k": 6}]]});
    let mut j = q("$..j", &d);
    j.sort_by_key(|v| v.as_i64());
    assert_eq!(j, vec![json!(1), json!(4)]);
    assert_eq!(q("$..[0]", &d), vec![json!(5), json!({"j": 4})]);
    assert_eq!(q("$.a..*", &d).len(), 7);
    assert_eq!(q("$..*", &d).len(), 11);
}

#[test]
fn filters() {
    let d = json!({
        "a": [3, 5, 1, 2, 4, 6, {"b": "j"}, {"b": "k"}, {"b": {}}, {"b": "kilo"}],
        "o": {"p": 1, "q": 2, "r": 3, "s": 5, "t": {"u": 6}},
        "e": "f"
    });
    assert_eq!(q("$.a[?@.b == 'kilo']", &d), vec![json!({"b": "kilo"})]);
    assert_eq!(q("$.a[?(@.b == 'kilo')]", &d), vec![json!({"b": "kilo"})]);
    assert_eq!(q("$.a[?@>3.5]", &d), vec![json!(5), json!(4), json!(6)]);
    assert_eq!(q("$.a[?@.b]", &d).len(), 4);
    assert_eq!(q("$[?@.*]", &d).len(), 2);
    assert_eq!(q("$[?@[?@.b]]", &d).len(), 1);
    assert_eq!(q("$.o[?@<3, ?@<3]", &d).len(), 4);
    assert_eq!(
        q("$.a[?@<2 || @.b == \"k\"]", &d),
        vec![json!(1), json!({"b": "k"})]
    );
    assert_eq!(q("$.a[?match(@.b, \"[jk]\")]", &d).len(), 2);
    assert_eq!(q("$.a[?search(@.b, \"[jk]\")]", &d).len(), 3);
    assert_eq!(q("$.o[?@>1 && @<4]", &d), vec![json!(2), json!(3)]);
    assert_eq!(q("$.o[?@.u || @.x]", &d), vec![json!({"u": 6})]);
    assert_eq!(q("$.a[?@.b == $.x]", &d).len(), 6);
    assert_eq!(q("$.a[?@ == @]", &d).len(), 10);
    assert_eq!(q("$.a[?!@.b]", &d).len(), 6);
    assert_eq!(q("$.a[?!(@.b)]", &d).len(), 6);
    assert_eq!(
        q(
            "$[?length(@) < 3]",
            &json!({"x": "ab", "y": [1, 2, 3], "z": {}})
        )
        .len(),
        2
    );
    assert_eq!(
        q("$[?count(@.*) == 1]", &json!([[1], [1, 2], {"a": 0}])).len(),
        2
    );
    assert_eq!(
        q(
            "$[?value(@..c) == 1]",
            &json!([{"b": {"c": 1}}, {"c": 1, "d": {"c": 1}}])
        )
        .len(),
        1
    );
    assert_eq!(
        q(
            "$[?match(@.d, @.p)]",
            &json!([{"d": "ab", "p": "a."}, {"d": "ab", "p": "b"}])
        )
        .len(),
        1
    );
    assert_eq!(q("$[?search(@, 'b')]", &json!(["abc", "xyz", 1])).len(), 1);
}

#[test]
fn comparison_semantics() {
    let d =
        json!({"obj": {"x": "y"}, "arr": [2, 3], "n": 1, "f": 1.0, "big": 18446744073709551615u64});
    let holds = |cond: &str| !q(&format!("$[?{cond}]"), &json!([d.clone()])).is_empty();
    for (cond, expected) in [
        ("$[0].absent1 == $[0].absent2", true),
        ("$[0].absent1 <= $[0].absent2", true),
        ("$[0].absent == 'g'", false),
        ("$[0].absent1 != $[0].absent2", false),
        ("$[0].absent != 'g'", true),
        ("1 <= 2", true),
        ("1 > 2", false),
        ("13 == '13'", false),
        ("'a' <= 'b'", true),
        ("'a' > 'b'", false),
        ("$[0].obj == $[0].arr", false),
        ("$[0].obj != $[0].arr", true),
        ("$[0].obj == $[0].obj", true),
        ("$[0].arr == $[0].arr", true),
        ("1 <= $[0].arr", false),
        ("1 >= $[0].arr", false),
        ("$[0].obj <= $[0].arr", false),
        ("true <= true", true),
        ("true > true", false),
        ("$[0].n == $[0].f", true),
        ("$[0].n == 1e0", true),
        ("-0 == 0", true),
        ("$[0].big > 1", true),
        ("$[0].big == 18446744073709551615", true),
        ("null == null", true),
        ("'\u{e9}' > 'z'", true),
    ] {
        assert_eq!(holds(cond), expected, "{cond}");
    }
}

#[test]
fn well_typedness() {
    for bad in [
        "$[?@.a == @.*]",
        "$[?@..a == 1]",
        "$[?length(@.*) > 1]",
        "$[?count(1) == 1]",
        "$[?match(@.a)]",
        "$[?match(@.a, 'x', 'y')]",
        "$[?length(@.a)]",
        "$[?match(@.a, 'a') == true]",
        "$[?foo(@.a)]",
        "$[?1]",
        "$[?'a']",
        "$[?@.a == 1 == 2]",
        "$[?@[ 'a' ] == 1]",
    ] {
        assert!(invalid(bad), "{bad} must be refused");
    }
    for good in [
        "$[?count(@.*) > 1]",
        "$[?length(@.a) == 2]",
        "$[?length(value(@..a)) == 2]",
        "$[?match(@.a, 'a.*') && !search(@.b, 'x')]",
        "$[?@['a'] == 1]",
        "$[?@[0] == 1]",
        "$[? @.a == 1 ]",
        "$[?(@.a == 1) || (@.b != 2)]",
        "$[?@.a==true]",
        "$[?@.a==null]",
    ] {
        assert!(!invalid(good), "{good} must parse");
    }
}

#[test]
fn syntax() {
    for bad in [
        "",
        " $",
        "$ ",
        "$.",
        "$..",
        "@.a",
        "$[01]",
        "$[-0]",
        "$['a'",
        "$[?(@.a]",
        "$[?@.a == truex]",
        "$.a.",
        "$[]",
        "$[1,]",
        "$[9007199254740992]",
        "$['\\x']",
        "$[\"\\'\"]",
        "$['\u{1}']",
        "$['\\ud83d']",
        "$[?@.a == 01]",
        "$[?@.a == 1.]",
        "$. a",
        "$.1a",
        "$[::1:]",
        "$..\n.a",
        "$[?!!@.a]",
        "$a",
    ] {
        assert!(invalid(bad), "{bad:?} must be refused");
    }
    for good in [
        "$",
        "$ .a",
        "$\t[0]",
        "$[ 0 , 1 ]",
        "$[1: 3 :2]",
        "$.é",
        "$._a1",
        "$.a[?@]",
        "$[-9007199254740991]",
        "$[\"'\"]",
        "$['\"']",
        "$..[*]",
        "$..*",
        "$[?@.a==-1.5e+3]",
    ] {
        assert!(!invalid(good), "{good:?} must parse");
    }
}

#[test]
fn sailpoint_idioms() {
    let ev = json!({"identity": {"name": "john.doe"}, "changes": [{"attribute": "department"}]});
    assert_eq!(q(r#"$[?($.identity.name == "john.doe")]"#, &ev).len(), 2);
    assert_eq!(
        q(r#"$.changes[?(@.attribute == "department")]"#, &ev).len(),
        1
    );
}

/// A payload at the publish limits: 64 levels deep, ~1 MiB wide.
fn deep(levels: usize) -> Value {
    let mut v = json!({"leaf": 1});
    for _ in 0..levels {
        v = json!({"a": v, "b": [1, 2, 3]});
    }
    v
}

fn wide(n: usize) -> Value {
    Value::Array((0..n).map(|i| json!({"a": i, "b": [i, "x"]})).collect())
}

/// Queries that take exponential or polynomial time without a budget.
const HOSTILE: &[&str] = &[
    "$..*..*..*..*..*",
    "$..[?$..[?$..*]]",
    "$[?$[?$[?$[?$.*]]]]",
    "$..[?@..[?@..[?@..*]]]",
    "$[*][?$[*][?$[*]]]",
    "$..[?count($..*) > 0]",
    "$..[?match(@, '(a|b|c|d|e)*x')]",
    "$[?@[?@[?@[?@[?@[?@[?@]]]]]]]",
];

#[test]
fn hostile_queries_exhaust_the_budget_quickly() {
    let budget = 1_000_000;
    let docs = [deep(120), wide(20_000)];
    for doc in &docs {
        for path in HOSTILE {
            let p = JsonPath::parse(path, &Limits::default()).unwrap();
            let t0 = Instant::now();
            let mut b = Budget::new(budget);
            let r = p.query(doc, &mut b);
            let took = t0.elapsed();
            assert!(
                took < Duration::from_secs(2),
                "{path} took {took:?} ({r:?})"
            );
        }
    }
}

#[test]
fn nested_arguments_parse_in_linear_time() {
    // Each level's argument is followed by a comparison, not `)`: a parser that backtracks to
    // re-read it as a logical expression doubles its work per level.
    let mut q = "@.a".to_string();
    for _ in 0..7 {
        q = format!("length(value({q})) == 1");
    }
    let t0 = Instant::now();
    assert!(invalid(&format!("$[?{q}]")));
    assert!(
        t0.elapsed() < Duration::from_millis(100),
        "{:?}",
        t0.elapsed()
    );
}

#[test]
fn structural_limits_name_themselves() {
    let e = JsonPath::parse(
        &format!("$[?{}@.a==1{}]", "(".repeat(1000), ")".repeat(1000)),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(e, ParseError::TooLong { .. }), "{e}");
    let e = JsonPath::parse(
        &format!("$[?{}@.a==1{}]", "(".repeat(100), ")".repeat(100)),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(
        e.is_limit() && e.to_string().contains("nesting limit is 16"),
        "{e}"
    );
    let e = JsonPath::parse(
        &format!("${}{}", "[?@".repeat(200), "]".repeat(200)),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(e, ParseError::TooDeep { max: 16 }), "{e}");
    let e = JsonPath::parse(&"$.a".repeat(300_000), &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("length limit is 2000"), "{e}");
    assert_eq!(Budget::new(3).spend(4), Err(Exhausted));
}

/// Prints how long exhausting the default budget takes for each hostile query on payloads at
/// the publish limits (`cargo test -p switchyard-core --release -- --ignored --nocapture
/// worst_case`).
#[test]
#[ignore]
fn worst_case_timings() {
    let docs = [
        ("deep(60)", deep(60)),
        ("wide(8000)", wide(8_000)),
        ("flat(200000)", Value::Array(vec![json!(0); 200_000])),
    ];
    let more = [
        "$..[?@ == $]",
        "$..[?search(@.b[1], @.b[1])]",
        "$..[?search(@, '\\\\p{L}{100}')]",
        "$..[?match(@, '((\\\\p{L}|\\\\p{N}|\\\\p{P}){1,30}x){1,20}')]",
        "$..[?@ == 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']",
        "$[?!@ && !@ && !@ && !@ && !@ && !@ && !@ && !@ && !@ && !@ && !@ && !@ && !@]",
        "$..[?search(@, '(\\\\p{L}|\\\\p{N}){1,10}x')]",
        "$..[?match(@, '(a|a)*(a|a)*(a|a)*b')]",
        "$[?match(@.s, @.p)]",
        "$[?search(@.s, @.p)]",
    ];
    let queries: Vec<&str> = HOSTILE.iter().copied().chain(more).collect();
    let text: String = "aé1,ß∑x".repeat(600);
    let patterns: Vec<Value> = (0..200)
        .map(|i| json!({"s": text, "p": format!("([\\p{{L}}\\p{{N}}]{{1,{}}}|\\p{{P}}{{1,20}})*x{i}", 20 + i % 7)}))
        .collect();
    let docs = [
        docs[0].clone(),
        docs[1].clone(),
        docs[2].clone(),
        ("strings(100x4KB)", Value::Array(vec![json!(text); 100])),
        ("patterns(200)", Value::Array(patterns)),
    ];
    for (name, doc) in &docs {
        for &path in &queries {
            let p = JsonPath::parse(path, &Limits::default()).unwrap();
            let mut b = Budget::new(1_000_000);
            let t0 = Instant::now();
            let r = p.query(doc, &mut b).map(|n| n.len());
            println!(
                "{:>8.1} ms  {name:<14} {path:<40} {r:?}",
                t0.elapsed().as_secs_f64() * 1e3
            );
        }
    }
}
