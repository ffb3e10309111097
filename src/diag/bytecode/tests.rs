//! Unit tests of the filter: the kernel's audit and interpreter restated,
//! encodings, parsing and display.

use super::*;

/// The kernel's bytecode audit (inet_diag_bc_audit), restated.
fn audit(bc: &[u8]) -> bool {
    let mut boundaries = vec![];
    let mut at = 0;
    while at < bc.len() {
        boundaries.push(at);
        at += (bc[at + 1] as usize).max(4);
    }
    let mut at = 0;
    while at < bc.len() {
        let len = bc.len() - at;
        let op = &bc[at..];
        let min = match op[0] {
            BC_S_COND | BC_D_COND => {
                let alen = if op[4] == libc::AF_INET as u8 { 4 } else { 16 };
                4 + 8 + alen
            }
            BC_S_EQ | BC_S_GE | BC_S_LE | BC_D_EQ | BC_D_GE | BC_D_LE => 8,
            BC_DEV_COND => 4 + 4,
            BC_MARK_COND | BC_CGROUP_COND => 4 + 8,
            BC_JMP => 4,
            _ => return false,
        };
        let yes = op[1] as usize;
        let no = u16::from_ne_bytes([op[2], op[3]]) as usize;
        if no < min || no > len + 4 || !no.is_multiple_of(4) {
            return false;
        }
        if no < len && boundaries.binary_search(&(at + no)).is_err() {
            return false;
        }
        if yes < min || yes > len + 4 || !yes.is_multiple_of(4) {
            return false;
        }
        at += yes;
    }
    at == bc.len()
}

/// The kernel's interpreter (inet_diag_bc_run), restated.
fn run(bc: &[u8], e: &Entry) -> bool {
    let (src, sport, dst, dport) = (e.src, e.sport, e.dst, e.dport);
    let mut at: isize = 0;
    let end = bc.len() as isize;
    while at < end {
        let op = &bc[at as usize..];
        let arg = || u16::from_ne_bytes([op[6], op[7]]);
        let u32_at = |o: usize| u32::from_ne_bytes(op[o..o + 4].try_into().unwrap());
        let yes = match op[0] {
            BC_DEV_COND => u32_at(4) == e.ifindex,
            BC_MARK_COND => e.mark & u32_at(8) == u32_at(4),
            BC_CGROUP_COND => u64::from_ne_bytes(op[4..12].try_into().unwrap()) == e.cgroup_id,
            BC_JMP => false,
            BC_S_EQ => sport == arg(),
            BC_S_GE => sport >= arg(),
            BC_S_LE => sport <= arg(),
            BC_D_EQ => dport == arg(),
            BC_D_GE => dport >= arg(),
            BC_D_LE => dport <= arg(),
            BC_S_COND | BC_D_COND => {
                let (a, p) = if op[0] == BC_S_COND {
                    (src, sport)
                } else {
                    (dst, dport)
                };
                let port = i32::from_ne_bytes([op[8], op[9], op[10], op[11]]);
                let ip: IpAddr = if op[4] == libc::AF_INET as u8 {
                    <[u8; 4]>::try_from(&op[12..16]).unwrap().into()
                } else {
                    <[u8; 16]>::try_from(&op[12..28]).unwrap().into()
                };
                let net = IpNetwork::new(ip, op[5]).unwrap();
                let port = (port != -1).then_some(port as u16);
                host_matches(&net, port, a, p)
            }
            _ => panic!("unknown op"),
        };
        at += if yes {
            op[1] as isize
        } else {
            u16::from_ne_bytes([op[2], op[3]]) as isize
        };
    }
    at == end
}

fn samples() -> Vec<Entry> {
    let addrs: Vec<IpAddr> = [
        "10.0.0.1",
        "10.1.2.3",
        "192.168.1.1",
        "::1",
        "::ffff:10.0.0.9",
        "2001:db8::5",
    ]
    .iter()
    .map(|a| a.parse().unwrap())
    .collect();
    let ports = [0u16, 22, 79, 80, 81, 443, 8080, 65535];
    let mut out = vec![];
    for (i, &s) in addrs.iter().enumerate() {
        for (j, &sp) in ports.iter().enumerate() {
            let d = addrs[(i + j) % addrs.len()];
            let dp = ports[(i * 3 + j) % ports.len()];
            out.push(Entry {
                src: s,
                sport: sp,
                dst: d,
                dport: dp,
                ifindex: (j % 3) as u32,
                mark: [0, 1, 0x10, 0x11, 0xff01][(i + j) % 5],
                cgroup_id: [1, 7, 1 << 40][(i * 2 + j) % 3],
            });
        }
    }
    out
}

#[test]
fn compiled_programs_pass_the_audit_and_agree_with_the_expression() {
    let exprs = [
        "sport = :80",
        "sport != :80",
        "dport < :443",
        "dport > :80",
        "sport <= :80 and dport >= :22",
        "sport = :80 or dport = :443",
        "not (sport = :80 or dport = :443)",
        "dst 10.0.0.0/8",
        "src 10.0.0.1:80",
        "dst [::1]:22 or src 2001:db8::/32",
        "! dst 10.0.0.0/8 and ( sport == 22 || sport ge 8000 ) or dport lt 1",
        "sport = :80 dport = :443",
        "not not sport > :0",
        "src 0.0.0.0/0",
        "dev = 1",
        "dev != 2",
        "dev == 0 or sport = :80",
        "fwmark = 0x10",
        "fwmark = 1/0xf",
        "fwmark != 0x1/0x1 and dev eq 1",
        "fwmark = 017/077",
        "fwmark = 0/0",
        "cgroup = id:7",
        "cgroup != id:1099511627776 or not dev = 2",
    ];
    for e in exprs {
        let f: Filter = e.parse().unwrap_or_else(|err| panic!("{e}: {err}"));
        let bc = f.compile().unwrap();
        assert!(audit(&bc), "{e}: audit refused {bc:?}");
        for x in samples() {
            assert_eq!(
                run(&bc, &x),
                f.eval(&x),
                "{e} on {}:{} -> {}:{} dev {} mark {:#x} cgroup {}",
                x.src,
                x.sport,
                x.dst,
                x.dport,
                x.ifindex,
                x.mark,
                x.cgroup_id
            );
        }
        // Display round-trips through the parser.
        let again: Filter = f.to_string().parse().unwrap();
        assert_eq!(again, f, "{e} displayed as {f}");
    }
}

#[test]
fn exact_bytes_of_simple_programs() {
    let bc = Filter::sport(Cmp::Eq, 80).compile().unwrap();
    let mut want = vec![BC_S_EQ, 8, 12, 0, 0, 0];
    want.extend(80u16.to_ne_bytes());
    assert_eq!(bc, want, "fails to end+4, the port in the second op's `no`");
    let bc = Filter::dst("10.0.0.0/8".parse().unwrap())
        .compile()
        .unwrap();
    let mut want = vec![BC_D_COND, 16, 20, 0, libc::AF_INET as u8, 8, 0, 0];
    want.extend((-1i32).to_ne_bytes());
    want.extend([10, 0, 0, 0]);
    assert_eq!(bc, want);

    // The new conditions, as ss encodes them: yes = own length,
    // no = length + 4 (the reject target).
    let bc = Filter::dev(3u32).compile().unwrap();
    let mut want = vec![BC_DEV_COND, 8, 12, 0];
    want.extend(3u32.to_ne_bytes());
    assert_eq!(bc, want);
    let bc = "fwmark = 0x10/0x30"
        .parse::<Filter>()
        .unwrap()
        .compile()
        .unwrap();
    let mut want = vec![BC_MARK_COND, 12, 16, 0];
    want.extend(0x10u32.to_ne_bytes());
    want.extend(0x30u32.to_ne_bytes());
    assert_eq!(bc, want);
    let bc = Filter::cgroup_id(0x1_0000_0002).compile().unwrap();
    let mut want = vec![BC_CGROUP_COND, 12, 16, 0];
    want.extend(0x1_0000_0002u64.to_ne_bytes());
    assert_eq!(bc, want);
}

#[test]
fn dev_fwmark_and_cgroup_parse_like_ss() {
    let p = |e: &str| e.parse::<Filter>().unwrap();
    assert_eq!(p("dev = eth0"), Filter::dev("eth0"));
    assert_eq!(p("dev eq 4"), Filter::dev(4u32));
    assert_eq!(p("dev != lo"), !Filter::dev("lo"));
    assert_eq!(p("fwmark = 7"), Filter::mark(7, !0));
    assert_eq!(p("fwmark = 0x10/0xf0"), Filter::mark(0x10, 0xf0));
    assert_eq!(p("fwmark neq 010/0X1f"), !Filter::mark(8, 0x1f));
    assert_eq!(p("cgroup = /system.slice"), Filter::cgroup("/system.slice"));
    assert_eq!(p("cgroup = id:42"), Filter::cgroup_id(42));
    for f in [
        Filter::dev("eth0"),
        Filter::mark(1, 3),
        Filter::mark(0xff, !0),
        Filter::cgroup("/a/b"),
        Filter::cgroup_id(9),
    ] {
        assert_eq!(f.to_string().parse::<Filter>().unwrap(), f, "{f}");
    }
    // Names and paths: found through the device index and cgroup id.
    let mut devs = HashMap::new();
    devs.insert("eth0".to_string(), 5);
    let f = p("dev = eth0 or dev = 3").resolve(&devs).unwrap();
    assert_eq!(f, Filter::dev(5u32).or(Filter::dev(3u32)));
    assert_eq!(
        p("dev = a and (dev = b or not dev = a)").device_names(),
        ["a", "b"]
    );
}

#[test]
fn bad_filters_name_the_field() {
    for e in [
        "",
        "sport",
        "sport = :99999",
        "sport ~ 1",
        "dst 10.0.0.1/33",
        "dst nonsense",
        "(sport = 1",
        "sport = 1 )",
        "bogus",
        "dev",
        "dev < 3",
        "fwmark",
        "cgroup >= /x",
    ] {
        match e.parse::<Filter>() {
            Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "filter", "{e}"),
            other => panic!("{e}: {other:?}"),
        }
    }
    // Values of dev, fwmark and cgroup name their own field, when
    // parsed or when compiled.
    for (e, want) in [
        ("fwmark = 0xzz", "fwmark"),
        ("fwmark = 1/", "fwmark"),
        ("fwmark = 0x100000000", "fwmark"),
        ("fwmark = -1", "fwmark"),
        ("cgroup = id:x", "cgroup"),
    ] {
        match e.parse::<Filter>() {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, want, "{e}: {reason}")
            }
            other => panic!("{e}: {other:?}"),
        }
    }
    for (f, want) in [
        (Filter::dev("eth0"), "dev"),
        (Filter::sport(Cmp::Eq, 1).and(!Filter::dev("x")), "dev"),
        (Filter::mark(0x10, 0x0f), "fwmark"),
        (Filter::cgroup("/no/such/cgroup/here"), "cgroup"),
        (Filter::cgroup("/proc"), "cgroup"),
        (Filter::cgroup("/\0"), "cgroup"),
        (Filter::cgroup("system.slice\0/x"), "cgroup"),
    ] {
        match f.compile() {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, want, "{f}: {reason}")
            }
            other => panic!("{f}: {other:?}"),
        }
    }
    // A balanced tree of 8192 leaves: too long, and no deep recursion.
    let mut level: Vec<Filter> = (0..8192).map(|i| Filter::sport(Cmp::Eq, i)).collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|c| c[0].clone().or(c[1].clone()))
            .collect();
    }
    let f = level.pop().unwrap();
    assert!(matches!(
        f.compile(),
        Err(Error::InvalidInput {
            field: "filter",
            ..
        })
    ));
}

mod deep;
