//! The conntrack table through `nl.conntrack()`, each test in a fresh
//! namespace (conntrack tables are per namespace), cross-checked with
//! conntrack-tools' `conntrack` run in the same namespace.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::TestNs;
use futures::{StreamExt, TryStreamExt};
use tokio_netlink::netfilter::conntrack::{
    ConntrackEvent, EventGroup, Filter, Proto, Status, TcpState, Tuple,
};
use tokio_netlink::{Error, Family, Netlink};

/// `ip netns exec NS conntrack ARGS`: its stdout (the summary line goes to
/// stderr). Panics when it fails.
fn conntrack(ns: &TestNs, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, "conntrack"])
        .args(args)
        .output()
        .expect("run conntrack (apt-get install conntrack)");
    assert!(
        out.status.success(),
        "conntrack {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

/// Runs a shell command inside the namespace.
fn sh(ns: &TestNs, script: &str) {
    let st = Command::new("ip")
        .args(["netns", "exec", &ns.name, "sh", "-c", script])
        .status()
        .expect("run sh");
    assert!(st.success(), "{script}");
}

/// A `conntrack -L` line with its timeout (which ticks) replaced by `_`;
/// the rest, padding included, compared as is.
fn untimed(line: &str) -> String {
    let (proto, rest) = line.split_at(9.min(line.len()));
    let (num, rest) = rest.split_once(' ').expect("protocol number");
    let (_timeout, rest) = rest.split_once(' ').expect("timeout");
    format!("{proto}{num} _ {rest}")
}

fn lines(text: &str) -> BTreeSet<String> {
    text.lines().map(untimed).collect()
}

async fn ours(nl: &Netlink, f: Filter) -> BTreeSet<String> {
    let list = nl.conntrack().list().filter(f).await.unwrap();
    list.iter().map(|c| untimed(&c.to_string())).collect()
}

fn udp(src: &str, dst: &str, sport: u16, dport: u16) -> Tuple {
    Tuple::new(src, dst, Proto::Udp)
        .unwrap()
        .ports(sport, dport)
}

/// Creates `tuples` concurrently (the engine coalesces the requests),
/// each with `timeout` and `mark`.
async fn create_all(nl: &Netlink, tuples: &[Tuple], mark: u32) {
    let ct = nl.conntrack();
    futures::stream::iter(tuples.iter().map(|t| ct.create(*t).timeout(600).mark(mark)))
        .map(|c| async move { c.await })
        .buffer_unordered(256)
        .try_collect::<Vec<()>>()
        .await
        .unwrap();
}

#[tokio::test]
async fn created_entries_list_as_conntrack_lists_them() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let ct = nl.conntrack();
    ct.create(
        Tuple::new("10.0.0.1", "10.0.0.2", Proto::Tcp)
            .unwrap()
            .ports(1000, 80),
    )
    .timeout(100)
    .tcp_state(TcpState::Established)
    .status(Status::SEEN_REPLY | Status::ASSURED)
    .mark(5)
    .await
    .unwrap();
    ct.create(udp("10.0.0.1", "10.0.0.3", 10, 20))
        .timeout(100)
        .await
        .unwrap();
    ct.create(
        Tuple::new("10.0.0.1", "10.0.0.4", Proto::Icmp)
            .unwrap()
            .icmp(8, 0, 77),
    )
    .timeout(100)
    .await
    .unwrap();
    ct.create(udp("2001:db8::1", "2001:db8::2", 10, 20))
        .timeout(100)
        .zone(3)
        .await
        .unwrap();
    ct.create(
        Tuple::new("2001:db8::1", "2001:db8::2", Proto::Icmpv6)
            .unwrap()
            .icmp(128, 0, 5),
    )
    .timeout(100)
    .await
    .unwrap();

    let all = ours(&nl, Filter::new()).await;
    assert_eq!(all.len(), 5);
    assert_eq!(all, lines(&conntrack(&ns, &["-L"])));
    let v6 = ours(&nl, Filter::new().family(Family::V6)).await;
    assert_eq!(v6, lines(&conntrack(&ns, &["-L", "-f", "ipv6"])));
    assert_eq!(v6.len(), 2);

    let e = ct
        .get(udp("2001:db8::1", "2001:db8::2", 10, 20))
        .zone(3)
        .await
        .unwrap();
    assert_eq!(e.zone(), Some(3));
    assert_eq!(e.reply().dport, Some(10));
    let tcp = ct
        .get(
            Tuple::new("10.0.0.1", "10.0.0.2", Proto::Tcp)
                .unwrap()
                .ports(1000, 80),
        )
        .await
        .unwrap();
    assert_eq!(tcp.tcp_state(), Some(TcpState::Established));
    assert!(tcp.status().contains(Status::ASSURED | Status::CONFIRMED));
    assert_eq!(tcp.mark(), Some(5));
    let g = conntrack(
        &ns,
        &[
            "-G", "-p", "tcp", "-s", "10.0.0.1", "-d", "10.0.0.2", "--sport", "1000", "--dport",
            "80",
        ],
    );
    assert_eq!(untimed(&tcp.to_string()), untimed(g.trim_end()));
    // A helper attached on create, shown as conntrack shows it.
    let ftp = Tuple::new("10.0.0.1", "10.0.0.9", Proto::Tcp)
        .unwrap()
        .ports(2000, 21);
    ct.create(ftp).timeout(100).helper("ftp").await.unwrap();
    let e = ct.get(ftp).await.unwrap();
    assert_eq!(e.helper(), Some("ftp"));
    let line = conntrack(&ns, &["-L", "-d", "10.0.0.9"]);
    assert!(line.contains(" helper=ftp "), "{line}");
    assert_eq!(
        lines(&line),
        ours(&nl, Filter::new().orig_dst("10.0.0.9")).await
    );
    let other = Tuple::new("10.0.0.1", "10.0.0.9", Proto::Tcp)
        .unwrap()
        .ports(2001, 21);
    let e = ct
        .create(other)
        .timeout(5)
        .helper("nosuch")
        .await
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::EOPNOTSUPP), "{e}");
    ct.delete(ftp).await.unwrap();
    let id = conntrack(&ns, &["-L", "-p", "tcp", "-o", "id"]);
    assert!(
        id.trim_end()
            .ends_with(&format!("id={}", tcp.id().unwrap())),
        "{id}"
    );
}

#[tokio::test]
async fn traffic_entries_match_conntrack() {
    let ns = TestNs::new().await;
    // Tracking needs a hook in the namespace: a rule that looks at ct
    // state; a DNAT rule makes a reply tuple that is not the original
    // reversed; accounting and timestamps add counters and times.
    sh(
        &ns,
        "sysctl -qw net.netfilter.nf_conntrack_acct=1 net.netfilter.nf_conntrack_timestamp=1 && \
         nft add table inet t && \
         nft add chain inet t c '{ type filter hook output priority 0; }' && \
         nft add rule inet t c ct state new accept && \
         nft add table ip n && \
         nft add chain ip n out '{ type nat hook output priority -100; }' && \
         nft add rule ip n out ip daddr 127.0.0.2 udp dport 9999 dnat to 127.0.0.1:5355",
    );
    sh(
        &ns,
        "python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b\"x\", (\"127.0.0.1\", 5353))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s6.sendto(b\"x\", (\"::1\", 5354))
n = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); n.sendto(b\"x\", (\"127.0.0.2\", 9999))
l = socket.socket(); l.bind((\"127.0.0.1\", 8080)); l.listen()
c = socket.create_connection((\"127.0.0.1\", 8080)); a, _ = l.accept()
c.send(b\"hi\"); a.recv(2); a.send(b\"ok\"); c.recv(2)
'",
    );
    let nl = ns.client();
    let nat = nl.conntrack().list().reply_sport(5355).await.unwrap();
    assert_eq!(nat.len(), 1);
    assert_eq!(nat[0].orig().dst.to_string(), "127.0.0.2");
    assert_eq!(nat[0].reply().src.to_string(), "127.0.0.1");
    assert!(
        nat[0]
            .status()
            .contains(Status::DST_NAT | Status::DST_NAT_DONE)
    );
    let c = nat[0].counters_orig().expect("accounting is on");
    assert_eq!(c.packets, 1);
    assert!(nat[0].start().is_some(), "timestamps are on");
    // conntrack prints delta-time, which may tick between the two runs.
    let untick = |set: BTreeSet<String>| -> BTreeSet<String> {
        set.into_iter()
            .map(|l| {
                l.split(' ')
                    .filter(|w| !w.starts_with("delta-time="))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    let all = untick(ours(&nl, Filter::new()).await);
    assert_eq!(all, untick(lines(&conntrack(&ns, &["-L"]))));
    assert_eq!(all.len(), 4, "{all:#?}");
    let web = nl
        .conntrack()
        .list()
        .protocol(Proto::Tcp)
        .dport(8080)
        .await
        .unwrap();
    assert_eq!(web.len(), 1);
    let w = &web[0];
    assert!(w.status().contains(Status::SEEN_REPLY | Status::ASSURED));
    assert!(w.tcp_state().is_some());
    assert_eq!(w.reply().sport, Some(8080));
    let dns6 = untick(ours(&nl, Filter::new().family(Family::V6).protocol(Proto::Udp)).await);
    let theirs = untick(lines(&conntrack(&ns, &["-L", "-f", "ipv6", "-p", "udp"])));
    assert_eq!(dns6, theirs);
    assert_eq!(dns6.len(), 1);
}

#[tokio::test]
async fn filters_select_as_conntrack_does() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let mut tuples = Vec::new();
    for i in 0..40u16 {
        let src = format!("10.{}.0.{}", 1 + i % 2, i);
        tuples.push(udp(&src, "192.0.2.1", 1000 + i, 53 + i % 3));
    }
    create_all(&nl, &tuples[..20], 0x10).await;
    create_all(&nl, &tuples[20..], 0x21).await;
    let ct = nl.conntrack();
    for i in 0..4u16 {
        let t = Tuple::new(format!("10.3.0.{i}").as_str(), "192.0.2.2", Proto::Tcp)
            .unwrap()
            .ports(2000 + i, 80);
        let c = ct.create(t).timeout(600).zone(i % 2);
        let c = match i % 2 {
            0 => c.status(Status::SEEN_REPLY | Status::ASSURED),
            _ => c,
        };
        c.await.unwrap();
    }
    ct.create(udp("2001:db8::1", "2001:db8::9", 7, 53))
        .timeout(600)
        .await
        .unwrap();

    // Each filter against conntrack's own (kernel-side or user-space).
    let cases: Vec<(Filter, Vec<&str>)> = vec![
        (Filter::new().protocol(Proto::Tcp), vec!["-p", "tcp"]),
        (
            Filter::new().protocol(Proto::Udp).dport(54),
            vec!["-p", "udp", "--dport", "54"],
        ),
        (Filter::new().mark(0x21, 0xff), vec!["-m", "0x21/0xff"]),
        (Filter::new().mark(0x0, 0xf), vec!["-m", "0x0/0xf"]),
        (Filter::new().orig_src("10.2.0.9"), vec!["-s", "10.2.0.9"]),
        (
            Filter::new().reply_src("192.0.2.2"),
            vec!["-r", "192.0.2.2"],
        ),
        (Filter::new().zone(1), vec!["-w", "1"]),
        (Filter::new().family(Family::V6), vec!["-f", "ipv6"]),
        (Filter::new().status(Status::ASSURED), vec!["-u", "ASSURED"]),
        (
            Filter::new()
                .status(Status::SEEN_REPLY)
                .protocol(Proto::Tcp)
                .zone(0),
            vec!["-u", "SEEN_REPLY", "-p", "tcp", "-w", "0"],
        ),
        (
            Filter::new()
                .family(Family::V4)
                .protocol(Proto::Udp)
                .sport(1005),
            vec!["-f", "ipv4", "-p", "udp", "--sport", "1005"],
        ),
    ];
    for (f, args) in cases {
        let mut a = vec!["-L"];
        a.extend(args.iter());
        let want = lines(&conntrack(&ns, &a));
        assert!(!want.is_empty(), "{args:?} selects nothing");
        assert_eq!(ours(&nl, f.clone()).await, want, "{f:?} vs {args:?}");
    }
    // What conntrack cannot filter: a prefix, checked against the tuples.
    let got = ours(&nl, Filter::new().orig_src("10.1.0.0/16").dport(53)).await;
    let want: BTreeSet<String> = lines(&conntrack(&ns, &["-L", "-p", "udp", "--dport", "53"]))
        .into_iter()
        .filter(|l| l.contains("src=10.1."))
        .collect();
    assert_eq!(got, want);
    assert_eq!(got.len(), 7, "i even, i % 3 == 0, below 40");

    // The kernel did the filtering where it can: a raw dump of a filter's
    // request returns only the matching entries, no user-space check.
    for (f, want) in [
        (Filter::new().mark(0x21, 0xff), 20),
        (Filter::new().status(Status::ASSURED), 2),
        (Filter::new().family(Family::V4).protocol(Proto::Tcp), 4),
        (
            Filter::new()
                .family(Family::V4)
                .protocol(Proto::Udp)
                .dport(54),
            13,
        ),
        (Filter::new().orig_src("10.2.0.9"), 1),
        (Filter::new().reply_src("192.0.2.2"), 4),
    ] {
        let raw: Vec<_> = ct
            .requester()
            .dump_raw(f.dump_request().unwrap(), 0)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(raw.len(), want, "{f:?}");
    }
}

#[tokio::test]
async fn update_changes_mark_timeout_status_labels() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let ct = nl.conntrack();
    let t = udp("10.0.0.1", "10.0.0.2", 5, 6);
    ct.create(t).timeout(30).mark(0xff00).await.unwrap();
    ct.update(t)
        .mark_masked(0x0012, 0x00ff)
        .timeout(1000)
        .status(Status::ASSURED)
        .await
        .unwrap();
    let e = ct.get(t).await.unwrap();
    assert_eq!(e.mark(), Some(0xff12));
    assert!(e.timeout().unwrap() > 900, "{:?}", e.timeout());
    assert!(e.status().contains(Status::ASSURED));
    // (A get holds a reference while it answers: compare listings' use=.)
    let line = conntrack(&ns, &["-L", "-m", "0xff12"]);
    assert_eq!(
        lines(&line),
        ours(&nl, Filter::new().mark(0xff12, !0)).await
    );
    ct.update(t).mark(1).await.unwrap();
    assert_eq!(ct.get(t).await.unwrap().mark(), Some(1));
    // Labels need the label extension, which a rule using `ct label` adds
    // to the entries made after it.
    sh(
        &ns,
        "nft add table ip t && nft add chain ip t c '{ type filter hook output priority 0; }' \
         && nft add rule ip t c ct label 1 accept",
    );
    let t2 = udp("10.0.0.1", "10.0.0.2", 7, 8);
    ct.create(t2).timeout(30).await.unwrap();
    ct.update(t2).labels(&[0b10, 0, 0, 0], None).await.unwrap();
    let l = ct.get(t2).await.unwrap();
    assert_eq!(l.labels().map(|b| b[0] & 0b10), Some(0b10), "{l:?}");
}

#[tokio::test]
async fn delete_by_filter_removes_exactly_the_matching_entries() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let tuples: Vec<Tuple> = (0..10_000u32)
        .map(|i| {
            let src = format!("10.{}.{}.{}", 20 + i / 65536, (i / 256) % 256, i % 256);
            let (dst, dport) = if i % 10 == 3 {
                ("10.96.0.10", 53)
            } else {
                ("10.96.0.11", 53)
            };
            udp(&src, dst, 30000 + (i % 1000) as u16, dport)
        })
        .collect();
    create_all(&nl, &tuples, 0).await;
    assert_eq!(nl.conntrack().count().await.unwrap(), 10_000);
    let n = nl
        .conntrack()
        .delete_matching()
        .protocol(Proto::Udp)
        .orig_dst("10.96.0.10")
        .dport(53)
        .await
        .unwrap();
    assert_eq!(n, 1000);
    assert_eq!(conntrack(&ns, &["-C"]).trim(), "9000");
    assert!(conntrack(&ns, &["-L", "-d", "10.96.0.10"]).is_empty());
    assert_eq!(
        conntrack(&ns, &["-L", "-d", "10.96.0.11"]).lines().count(),
        9000
    );
    // What a listing returned, deleted entry by entry.
    let some = nl
        .conntrack()
        .list()
        .orig_src("10.20.0.0/24")
        .await
        .unwrap();
    assert_eq!(some.len(), 230, "10.20.0.0-255 less the 1 in 10 deleted");
    for ct in &some {
        nl.conntrack().del_conntrack(ct).await.unwrap();
    }
    assert_eq!(conntrack(&ns, &["-C"]).trim(), "8770");
    let e = nl.conntrack().del_conntrack(&some[0]).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    // Nothing left to match: zero, not an error.
    let again = nl
        .conntrack()
        .delete_matching()
        .orig_dst("10.96.0.10")
        .await;
    assert_eq!(again.unwrap(), 0);
}

#[tokio::test]
async fn flush_all_by_family_and_by_mark() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let ct = nl.conntrack();
    create_all(
        &nl,
        &[
            udp("10.0.0.1", "10.0.0.2", 1, 2),
            udp("10.0.0.1", "10.0.0.2", 1, 3),
        ],
        1,
    )
    .await;
    create_all(&nl, &[udp("10.0.0.1", "10.0.0.2", 1, 4)], 2).await;
    create_all(&nl, &[udp("2001:db8::1", "2001:db8::2", 1, 2)], 2).await;
    ct.flush().mark(1, 0xff).await.unwrap();
    assert!(conntrack(&ns, &["-L", "-m", "1"]).is_empty());
    assert_eq!(ct.count().await.unwrap(), 2);
    ct.flush().family(Family::V6).await.unwrap();
    assert_eq!(lines(&conntrack(&ns, &["-L"])).len(), 1);
    assert!(conntrack(&ns, &["-L", "-f", "ipv6"]).is_empty());
    ct.flush().await.unwrap();
    assert_eq!(ct.count().await.unwrap(), 0);
    assert!(conntrack(&ns, &["-L"]).is_empty());
}

#[tokio::test]
async fn count_and_per_cpu_stats_match_conntrack() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    create_all(
        &nl,
        &[
            udp("10.0.0.1", "10.0.0.2", 1, 2),
            udp("10.0.0.1", "10.0.0.2", 1, 3),
        ],
        0,
    )
    .await;
    let g = nl.conntrack().global_stats().await.unwrap();
    assert_eq!(g.entries, 2);
    assert_eq!(conntrack(&ns, &["-C"]).trim(), "2");
    assert!(g.max_entries.is_some_and(|m| m > 0));
    let ours: Vec<String> = nl
        .conntrack()
        .cpu_stats()
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    let theirs: Vec<String> = conntrack(&ns, &["-S"])
        .lines()
        .map(|l| l.trim_end().to_owned())
        .collect();
    assert_eq!(ours, theirs);
    assert!(!ours.is_empty());
}

#[tokio::test]
async fn events_for_library_changes() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let ct = nl.conntrack();
    let mut ev = ct.events(&EventGroup::all());
    ev.ready().await.unwrap();
    let t = udp("10.0.0.1", "10.0.0.2", 5, 6);
    ct.create(t).timeout(30).await.unwrap();
    ct.update(t).mark(9).await.unwrap();
    ct.delete(t).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match ev.next().await.expect("event stream ended") {
            ConntrackEvent::New(c) => seen.push(("new", *c.orig(), c.mark())),
            ConntrackEvent::Update(c) => seen.push(("update", *c.orig(), c.mark())),
            ConntrackEvent::Destroy(c) => seen.push(("destroy", *c.orig(), c.mark())),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        seen,
        [
            ("new", t, Some(0)),
            ("update", t, Some(9)),
            ("destroy", t, Some(9)),
        ]
    );
    // And for changes conntrack-tools makes.
    conntrack(
        &ns,
        &[
            "-I", "-p", "udp", "-s", "10.0.0.5", "-d", "10.0.0.6", "--sport", "7", "--dport", "8",
            "-t", "30",
        ],
    );
    conntrack(&ns, &["-D", "-s", "10.0.0.5"]);
    let t = udp("10.0.0.5", "10.0.0.6", 7, 8);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match ev.next().await.expect("event stream ended") {
            ConntrackEvent::New(c) => seen.push(("new", *c.orig())),
            ConntrackEvent::Destroy(c) => seen.push(("destroy", *c.orig())),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen, [("new", t), ("destroy", t)]);
}

#[tokio::test]
async fn a_flood_into_a_small_buffer_reports_its_losses() {
    let ns = TestNs::new().await;
    let small = Netlink::builder()
        .netns(ns.name.as_str())
        .event_receive_buffer(4096)
        .build()
        .unwrap();
    let mut ev = small.conntrack().events(&[EventGroup::New]);
    ev.ready().await.unwrap();
    let nl = ns.client();
    let tuples: Vec<Tuple> = (0..2000u16)
        .map(|i| udp("10.0.0.1", "10.0.0.2", i, 1))
        .collect();
    create_all(&nl, &tuples, 0).await;
    // Nothing was read while 2000 events (~200 bytes each) came: the 4 KiB
    // buffer overflowed, and the stream says so before anything newer.
    let mut news = 0;
    loop {
        match ev.next().await.expect("stream ended") {
            ConntrackEvent::New(_) => news += 1,
            ConntrackEvent::Lost => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(news < 2000, "{news}");
    assert_eq!(ev.losses(), 1);
    // After the loss, new events arrive again.
    let t = udp("10.0.0.9", "10.0.0.2", 1, 1);
    nl.conntrack().create(t).timeout(30).await.unwrap();
    loop {
        if let ConntrackEvent::New(c) = ev.next().await.expect("stream ended")
            && *c.orig() == t
        {
            break;
        }
    }
}

#[tokio::test]
async fn bad_input_is_named_and_kernel_refusals_explained() {
    let ns = TestNs::new().await;
    let nl = ns.client();
    let ct = nl.conntrack();
    let field = |e: Error| match e {
        Error::InvalidInput { field, .. } => field,
        other => panic!("not an input error: {other}"),
    };
    assert_eq!(
        field(Tuple::new("10.0.0.1", "2001:db8::1", Proto::Udp).unwrap_err()),
        "dst"
    );
    assert_eq!(
        field(Tuple::new("10.0.0.1.1", "10.0.0.2", Proto::Udp).unwrap_err()),
        "src"
    );
    let t = udp("10.0.0.1", "10.0.0.2", 1, 2);
    assert_eq!(field(ct.create(t).await.unwrap_err()), "timeout");
    let no_ports = Tuple::new("10.0.0.1", "10.0.0.2", Proto::Tcp).unwrap();
    assert_eq!(
        field(ct.create(no_ports).timeout(5).await.unwrap_err()),
        "sport"
    );
    let v6_reply = udp("2001:db8::2", "2001:db8::1", 2, 1);
    assert_eq!(
        field(ct.create(t).reply(v6_reply).timeout(5).await.unwrap_err()),
        "reply"
    );
    assert_eq!(field(ct.update(t).await.unwrap_err()), "update");
    assert_eq!(
        field(ct.update(t).labels(&[1, 2, 3], None).await.unwrap_err()),
        "labels"
    );
    let e = ct
        .list()
        .family(Family::V4)
        .orig_dst("2001:db8::1")
        .await
        .unwrap_err();
    assert_eq!(field(e), "orig-dst");
    let e = ct.list().orig_src("10.0.0.0/40").await.unwrap_err();
    assert_eq!(field(e), "orig-src");

    // The kernel's refusals, under the operation and its object.
    let e = ct.delete(t).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(
        e.to_string(),
        "conntrack delete udp src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2: no such conntrack entry"
    );
    assert!(ct.get(t).await.unwrap_err().is_not_found());
    assert!(ct.update(t).mark(1).await.unwrap_err().is_not_found());
    ct.create(t).timeout(5).await.unwrap();
    let e = ct.create(t).timeout(5).await.unwrap_err();
    assert!(e.is_exists(), "{e}");
    assert!(
        e.to_string()
            .starts_with("conntrack create udp src=10.0.0.1"),
        "{e}"
    );
}

#[tokio::test]
async fn the_example_prints_what_conntrack_prints() {
    let bin = common::ip_example::build_example("conntrack");
    let ns = TestNs::new().await;
    let nl = ns.client();
    create_all(
        &nl,
        &[
            udp("10.0.0.1", "10.0.0.2", 1, 53),
            udp("10.0.0.3", "10.0.0.2", 1, 80),
        ],
        7,
    )
    .await;
    create_all(&nl, &[udp("2001:db8::1", "2001:db8::2", 1, 53)], 0).await;
    let ex = |args: &[&str]| {
        let o = common::ip_example::run_bin(&bin, &ns, args);
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
        o.stdout
    };
    for args in [
        &["-L"][..],
        &["-L", "-o", "extended"],
        &["-L", "-p", "udp", "--dport", "53"],
        &["-L", "-f", "ipv6"],
        &["-L", "-m", "7"],
        &["-L", "-s", "10.0.0.3"],
    ] {
        let theirs = conntrack(&ns, args);
        let ours = ex(args);
        assert!(!theirs.is_empty(), "{args:?}");
        let strip = |t: &str| -> BTreeSet<String> {
            // `-o extended` puts the family first: untime after it.
            t.lines()
                .map(|l| {
                    match l
                        .strip_prefix("ipv4     2 ")
                        .or(l.strip_prefix("ipv6     10 "))
                    {
                        Some(rest) => format!("{} {}", &l[..l.len() - rest.len()], untimed(rest)),
                        None => untimed(l),
                    }
                })
                .collect()
        };
        assert_eq!(strip(&ours), strip(&theirs), "{args:?}");
    }
    assert_eq!(ex(&["-C"]), conntrack(&ns, &["-C"]));
    let theirs: Vec<String> = conntrack(&ns, &["-S"])
        .lines()
        .map(|l| l.trim_end().into())
        .collect();
    let ours: Vec<String> = ex(&["-S"]).lines().map(Into::into).collect();
    assert_eq!(ours, theirs);
    let o = common::ip_example::run_bin(&bin, &ns, &["-D", "--dport", "53"]);
    assert!(
        o.stderr.contains("2 flow entries have been deleted"),
        "{}",
        o.stderr
    );
    assert_eq!(conntrack(&ns, &["-C"]).trim(), "1");
    ex(&["-F"]);
    assert_eq!(conntrack(&ns, &["-C"]).trim(), "0");

    // One entry: -I, -G and -U with conntrack's tuple options.
    let tuple = [
        "-p", "tcp", "-s", "10.1.1.1", "-d", "10.1.1.2", "--sport", "5", "--dport", "6",
    ];
    let with = |cmd: &str, more: &[&str]| {
        let mut a = vec![cmd];
        a.extend_from_slice(&tuple);
        a.extend_from_slice(more);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| ex(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let made = with(
        "-I",
        &[
            "-t",
            "50",
            "--state",
            "ESTABLISHED",
            "-u",
            "SEEN_REPLY,ASSURED",
            "-m",
            "4",
        ],
    );
    run(made);
    let theirs = conntrack(
        &ns,
        &with("-G", &[])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        untimed(run(with("-G", &[])).trim_end()),
        untimed(theirs.trim_end())
    );
    assert!(theirs.starts_with("tcp      6 "), "{theirs}");
    assert!(
        theirs.contains(" ESTABLISHED src=10.1.1.1 dst=10.1.1.2 sport=5 dport=6 src=10.1.1.2"),
        "{theirs}"
    );
    assert!(theirs.contains(" [ASSURED] mark=4 "), "{theirs}");
    run(with("-U", &["-m", "9"]));
    assert_eq!(conntrack(&ns, &["-L", "-m", "9"]).lines().count(), 1);
    let o = common::ip_example::run_bin(&bin, &ns, &["-I", "-p", "tcp", "-s", "10.1.1.1"]);
    assert_ne!(o.code, 0, "a tuple without -d is refused");
}

#[tokio::test]
async fn the_example_prints_events() {
    use std::io::BufRead;
    let bin = common::ip_example::build_example("conntrack");
    let ns = TestNs::new().await;
    let nl = ns.client();
    /// The example, killed when the test ends, also by a panic.
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Running(
        Command::new(&bin)
            .args(["-n", &ns.name, "-E", "-p", "udp"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("run the example"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.expect("utf8")).is_err() {
                return;
            }
        }
    });
    // The example says nothing when it has subscribed: make entries until
    // it shows one (each a new tuple), then delete that one.
    let mut shown = None;
    for sport in 1..=100u16 {
        let t = udp("10.9.0.1", "10.9.0.2", sport, 53);
        nl.conntrack().create(t).timeout(30).await.unwrap();
        if let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
            shown = Some(line);
            break;
        }
    }
    let line = shown.expect("the example showed no event");
    assert!(
        line.starts_with("    [NEW] udp      17 30 src=10.9.0.1 dst=10.9.0.2 sport="),
        "{line}"
    );
    assert!(
        line.contains(" dport=53 [UNREPLIED] src=10.9.0.2"),
        "{line}"
    );
    // The entry shown (an earlier one's event may come late: read its port).
    let sport: u16 = line
        .split(' ')
        .find_map(|w| w.strip_prefix("sport="))
        .and_then(|p| p.parse().ok())
        .expect("sport");
    let t = udp("10.9.0.1", "10.9.0.2", sport, 53);
    // Not shown: -p udp filters it out.
    let tcp = Tuple::new("10.9.0.1", "10.9.0.2", Proto::Tcp)
        .unwrap()
        .ports(1, 2);
    nl.conntrack().create(tcp).timeout(30).await.unwrap();
    nl.conntrack().delete(t).await.unwrap();
    let mut next = rx.recv().expect("a line");
    while next.starts_with("    [NEW]") {
        // Entries made before the one shown may still be queued.
        next = rx.recv().expect("a line");
    }
    assert!(next.starts_with("[DESTROY] udp      17 "), "{next}");
    assert!(
        next.contains(&format!("sport={} dport=53", t.sport.unwrap())),
        "{next}"
    );
    drop(child);
}
