//! SailPoint collection parameters: `filters` (`id eq "x" and type in ("A","B")`), `sorters`
//! (`-name,id`) and paging. Input: `<filters>\n<sorters>\n<limit>\n<offset>`. Nothing may panic;
//! parsed filters evaluate and parsed sorters order rows without panicking.

#![no_main]
use libfuzzer_sys::fuzz_target;
use switchyard_core::sailpoint::query::{compare, parse_sorters, Filters, Op, Page};

const SPEC: &[(&str, &[Op])] = &[
    ("id", &[Op::Eq, Op::In]),
    ("name", &[Op::Eq, Op::Sw, Op::Co]),
    (
        "type",
        &[Op::Eq, Op::In, Op::Le, Op::Ge, Op::Lt, Op::Gt, Op::Ne],
    ),
];

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = s.splitn(4, '\n');
    let (filters, sorters) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (limit, offset) = (parts.next(), parts.next());
    let rows = [
        ("a", "Alpha", "HTTP"),
        ("b", "beta", "EVENTBRIDGE"),
        ("c", "", "HTTP"),
    ];
    let field = |r: &(&'static str, &'static str, &'static str), f: &str| match f {
        "id" => Some(r.0),
        "name" => Some(r.1),
        "type" => Some(r.2),
        _ => None,
    };
    if let Ok(f) = Filters::parse(filters, SPEC) {
        for r in &rows {
            let _ = f.matches(|name| field(r, name));
        }
    }
    if let Ok(sorters) = parse_sorters(sorters, &["id", "name", "type"]) {
        let mut sorted: Vec<_> = rows.iter().collect();
        sorted.sort_by(|a, b| compare(*a, *b, &sorters, |r, f| field(r, f)));
    }
    if let Ok(page) = Page::parse(limit, offset, None) {
        let _ = page.apply(rows.to_vec());
    }
});
