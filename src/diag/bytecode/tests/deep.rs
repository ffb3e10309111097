//! Deep filters: nothing recurses over the tree, so neither the parser nor
//! any trait or method on a deep [`Filter`] may abort the process with a
//! stack overflow (these sizes did, on a 2 MiB test thread). Whatever the
//! depth, a filter works or compiling it fails with field `filter`.

use super::*;

fn leaf(i: usize) -> Filter {
    Filter::sport(Cmp::Eq, i as u16)
}

fn parens(n: usize) -> String {
    format!("{}sport = :1{}", "(".repeat(n), ")".repeat(n))
}

fn nots(n: usize) -> String {
    format!("{}sport = :1", "! ".repeat(n))
}

fn or_chain(n: usize) -> String {
    (0..n)
        .map(|i| format!("sport = :{}", i as u16))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// `n` nested `not`s, built with the API.
fn api_nots(n: usize) -> Filter {
    (0..n).fold(leaf(1), |f, _| !f)
}

/// A left-leaning `or` of `n` ports, as the parser builds it.
fn api_or_chain(n: usize) -> Filter {
    (1..n).fold(leaf(0), |f, i| f.or(leaf(i)))
}

/// Everything a caller can do with a filter, none of which may overflow:
/// clone, compare, print (and parse back), evaluate, compile, drop.
fn exercise(f: Filter) -> Result<Vec<u8>> {
    let copy = f.clone();
    assert!(copy == f);
    assert!(copy != !f.clone());
    assert!(!format!("{f:?}").is_empty());
    let text = f.to_string();
    assert_eq!(text.parse::<Filter>().unwrap(), f);
    let local: IpAddr = "127.0.0.1".parse().unwrap();
    let _ = f.matches(local, 1, local, 2);
    assert!(f.device_names().is_empty());
    drop(copy);
    f.compile()
}

fn refused(r: Result<Vec<u8>>) -> bool {
    matches!(
        r,
        Err(Error::InvalidInput {
            field: "filter",
            ..
        })
    )
}

/// The program is what the kernel would accept, and means what `f` means.
fn agrees(f: &Filter, bc: &[u8]) {
    assert!(audit(bc), "audit refused a {}-byte program", bc.len());
    for x in samples() {
        assert_eq!(run(bc, &x), f.eval(&x), "sport {}", x.sport);
    }
}

#[test]
fn the_issue_sizes_parse_and_compile() {
    // 2,343 nested parentheses (4.7 KB of text): one condition.
    let f: Filter = parens(2343).parse().unwrap();
    assert_eq!(f, leaf(1));
    let bc = exercise(f.clone()).unwrap();
    agrees(&f, &bc);

    // 5,500 `!`: an even count, so sport = :1 again, through 5,500 jumps.
    let f: Filter = nots(5500).parse().unwrap();
    assert_eq!(f, api_nots(5500));
    let bc = exercise(f.clone()).unwrap();
    assert_eq!(bc.len(), 8 + 4 * 5500);
    agrees(&f, &bc);

    // A 5,461-term `or` of ports: 8 bytes a port, 4 a jump, 65,528 bytes
    // in all, the longest program there can be; one term more is too long.
    let f: Filter = or_chain(5461).parse().unwrap();
    assert_eq!(f, api_or_chain(5461));
    let bc = exercise(f.clone()).unwrap();
    assert_eq!(bc.len(), asm::MAX_PROGRAM);
    assert_eq!(bc.len(), 65528);
    agrees(&f, &bc);
    assert!(refused(exercise(or_chain(5462).parse().unwrap())));
}

#[test]
fn a_hundred_thousand_deep_through_the_parser() {
    let f: Filter = parens(100_000).parse().unwrap();
    assert_eq!(f, leaf(1));
    assert!(exercise(f).is_ok());
    let f: Filter = nots(100_000).parse().unwrap();
    assert_eq!(f, api_nots(100_000));
    assert!(refused(exercise(f)));
    let f: Filter = or_chain(100_000).parse().unwrap();
    assert!(refused(exercise(f)));
    // Unbalanced deep input is an error, not a crash.
    for bad in [
        "(".repeat(100_000),
        format!("{}sport = :1", "(".repeat(100_000)),
        format!("sport = :1{}", ")".repeat(100_000)),
        "! ".repeat(100_000),
    ] {
        assert!(matches!(
            bad.parse::<Filter>(),
            Err(Error::InvalidInput {
                field: "filter",
                ..
            })
        ));
    }
}

#[test]
fn a_hundred_thousand_deep_through_the_api() {
    assert!(refused(exercise(api_nots(100_000))));
    assert!(refused(exercise(api_or_chain(100_000))));
    // Right-leaning, and an `and` chain, mixed with `not`.
    let right = (1..100_000).rev().fold(leaf(0), |f, i| leaf(i).or(f));
    assert!(refused(exercise(right)));
    let mixed = (0..100_000).fold(leaf(0), |f, i| match i % 3 {
        0 => !f,
        1 => f.and(leaf(i)),
        _ => leaf(i).or(f),
    });
    assert!(refused(exercise(mixed)));
    // Built with the variants directly, and only dropped.
    let mut f = leaf(0);
    for _ in 0..1_000_000 {
        f = Filter::Not(Box::new(f));
    }
    drop(f);
}

#[test]
fn deep_filters_evaluate_like_the_kernel_program() {
    let f = api_nots(5001);
    let bc = f.compile().unwrap();
    agrees(&f, &bc);
    assert_eq!(f.matches_socket_ports(1), !leaf(1).matches_socket_ports(1));
    let f = api_or_chain(3000).and(!Filter::dport(Cmp::Lt, 100));
    agrees(&f, &f.compile().unwrap());
}

impl Filter {
    fn matches_socket_ports(&self, sport: u16) -> bool {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        self.matches(a, sport, a, 80)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_filters_on_a_tokio_worker_with_its_2_mib_stack() {
    let outcome = tokio::spawn(async {
        let parsed: Filter = nots(100_000).parse().unwrap();
        let chain: Filter = or_chain(100_000).parse().unwrap();
        let nested: Filter = parens(100_000).parse().unwrap();
        (
            refused(exercise(parsed)),
            refused(exercise(chain)),
            exercise(nested).is_ok(),
            exercise(or_chain(5461).parse().unwrap())
                .map(|bc| bc.len())
                .ok(),
        )
    })
    .await
    .expect("the worker did not panic");
    assert_eq!(outcome, (true, true, true, Some(65528)));
}

#[test]
fn the_parser_groups_like_ss() {
    let p = |e: &str| e.parse::<Filter>().unwrap();
    let (a, b, c, d) = (leaf(1), leaf(2), leaf(3), leaf(4));
    let t = "sport = :1 sport = :2 or sport = :3 and ! sport = :4";
    assert_eq!(p(t), a.clone().and(b.clone()).or(c.clone().and(!d.clone())));
    let t = "! (sport = :1 or sport = :2) sport = :3";
    assert_eq!(p(t), (!a.clone().or(b.clone())).and(c.clone()));
    let t = "sport = :1 or sport = :2 or sport = :3";
    assert_eq!(p(t), a.clone().or(b.clone()).or(c.clone()));
    let t = "sport = :1 && (sport = :2 || ((sport = :3))) & not not sport = :4";
    assert_eq!(p(t), a.clone().and(b.or(c)).and(!!d));
    assert_eq!(p("((sport = :1))"), a);
    for e in [
        "()",
        ")(",
        "(sport = :1))",
        "sport = :1 or",
        "sport = :1 and and sport = :2",
        "!",
        "sport = :1 ( sport = :2",
        "or sport = :1",
    ] {
        match e.parse::<Filter>() {
            Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "filter", "{e}"),
            other => panic!("{e}: {other:?}"),
        }
    }
}

#[test]
fn debug_reads_like_the_derived_one() {
    let f = Filter::sport(Cmp::Eq, 80).or(!Filter::dev("x").and(Filter::mark(1, 3)));
    let want = "Or(Sport(Eq, 80), Not(And(Dev(Name(\"x\")), Mark { value: 1, mask: 3 })))";
    assert_eq!(format!("{f:?}"), want);
    assert_eq!(format!("{f:#?}"), want);
    let f = Filter::dst("10.0.0.0/8".parse().unwrap());
    assert_eq!(
        format!("{f:?}"),
        "Dst(V4(Ipv4Network { addr: 10.0.0.0, prefix: 8 }), None)"
    );
}
