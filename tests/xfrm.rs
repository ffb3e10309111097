//! XFRM policies and the policy monitor on the host kernel, each test in a
//! fresh namespace, cross-checked with `ip xfrm policy`. (States need
//! ESP/AH/IPCOMP, which the host lacks: they are tested in the VM lane.)

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::TestNs;
use futures::StreamExt;
use tokio_netlink::xfrm::{AllocSpi, State, StateId};
use tokio_netlink::xfrm::{
    DefaultAction, DefaultPolicy, Dir, Group, IpsecProto, Level, Mark, Migrate, MigrateEntry, Mode,
    Policy, PolicyAction, PolicyId, SecCtx, Selector, Template, XfrmEvent, msg,
};

/// One policy of `ip -s xfrm policy`'s text: its first line and the tokens
/// of the rest (templates split off).
#[derive(Debug)]
struct IpPolicy {
    selector: String,
    tokens: Vec<String>,
    templates: Vec<Vec<String>>,
}

impl IpPolicy {
    fn get(&self, key: &str) -> Option<&str> {
        let i = self.tokens.iter().position(|t| t == key)?;
        self.tokens.get(i + 1).map(String::as_str)
    }
}

fn tmpl_get<'a>(t: &'a [String], key: &str) -> Option<&'a str> {
    let i = t.iter().position(|x| x == key)?;
    t.get(i + 1).map(String::as_str)
}

/// Parses `ip -s xfrm policy` (policies start at a line without indent;
/// `tmpl` lines and their continuation belong to a template).
fn ip_policies(ns: &TestNs) -> Vec<IpPolicy> {
    let text = ns.ip(&["-s", "xfrm", "policy"]);
    let mut out: Vec<IpPolicy> = Vec::new();
    let mut in_tmpl = false;
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if !line.starts_with(['\t', ' ']) {
            // `-s` appends the selector's owner (`uid 0`).
            let sel = line.trim();
            let sel = sel.split(" uid ").next().unwrap_or(sel);
            out.push(IpPolicy {
                selector: sel.to_owned(),
                tokens: Vec::new(),
                templates: Vec::new(),
            });
            in_tmpl = false;
            continue;
        }
        let p = out.last_mut().expect("a policy line first");
        let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        if words.first().map(String::as_str) == Some("tmpl") {
            p.templates.push(words[1..].to_vec());
            in_tmpl = true;
        } else if in_tmpl && line.starts_with("\t\t") {
            p.templates.last_mut().unwrap().extend(words);
        } else {
            in_tmpl = false;
            p.tokens.extend(words);
        }
    }
    out
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn out_policy() -> Policy {
    let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
    let t = Template::new(IpsecProto::Esp, Mode::Tunnel)
        .endpoints(ip("192.0.2.1"), ip("192.0.2.2"))
        .reqid(1);
    Policy::new(sel, Dir::Out)
        .priority(100)
        .mark(Mark {
            value: 5,
            mask: 0xff,
        })
        .if_id(7)
        .template(t)
}

#[tokio::test]
async fn add_get_update_delete_a_policy_cross_checked_with_ip() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    let p = out_policy();
    x.add_policy(&p).await.unwrap();

    let ipp = ip_policies(&ns);
    assert_eq!(ipp.len(), 1, "{ipp:?}");
    let i = &ipp[0];
    assert_eq!(i.selector, "src 10.0.0.0/24 dst 10.0.1.0/24");
    assert_eq!(i.get("dir"), Some("out"));
    assert_eq!(i.get("priority"), Some("100"));
    assert_eq!(i.get("action"), Some("allow"));
    assert_eq!(i.get("mark"), Some("0x5/0xff"));
    assert_eq!(i.get("if_id"), Some("0x7"));
    assert_eq!(i.templates.len(), 1);
    let t = &i.templates[0];
    assert_eq!(tmpl_get(t, "src"), Some("192.0.2.1"));
    assert_eq!(tmpl_get(t, "dst"), Some("192.0.2.2"));
    assert_eq!(tmpl_get(t, "proto"), Some("esp"));
    assert_eq!(
        tmpl_get(t, "reqid"),
        Some("1(0x00000001)"),
        "ip -s spelling"
    );
    assert_eq!(tmpl_get(t, "mode"), Some("tunnel"));
    let index: u32 = i.get("index").unwrap().parse().unwrap();

    // Our listing agrees with what we sent and with ip.
    let list = x.policies().await.unwrap();
    assert_eq!(list.len(), 1);
    let got = &list[0];
    assert_eq!(got.selector.src, Some(ip("10.0.0.0")));
    assert_eq!(got.selector.dst_len, 24);
    assert_eq!(got.dir, Dir::Out);
    assert_eq!(got.priority, 100);
    assert_eq!(got.index, index);
    assert_eq!(got.mark, p.mark);
    assert_eq!(got.if_id, Some(7));
    assert_eq!(got.templates, p.templates);
    assert_eq!(got.lifetime, p.lifetime);
    assert_ne!(got.current.add_time, 0);

    // get by selector+dir (with mark and if_id), and by index.
    let by_sel = x.get_policy(&PolicyId::from(&p)).await.unwrap();
    assert_eq!(by_sel.index, index);
    let by_index = x
        .get_policy(&PolicyId::by_index(index).mark(p.mark.unwrap()).if_id(7))
        .await
        .unwrap();
    assert_eq!(by_index.selector, got.selector);
    // Without the mark it is another policy: none.
    let e = x
        .get_policy(&PolicyId::by_selector(p.selector, Dir::Out))
        .await
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENOENT), "{e}");

    // add again: EEXIST; update replaces.
    let e = x.add_policy(&p).await.unwrap_err();
    assert_eq!(e.errno(), Some(libc::EEXIST), "{e}");
    let p2 = p.clone().priority(50).action(PolicyAction::Block);
    x.update_policy(&p2).await.unwrap();
    let ipp = ip_policies(&ns);
    assert_eq!(ipp.len(), 1);
    assert_eq!(ipp[0].get("priority"), Some("50"));
    assert_eq!(ipp[0].get("action"), Some("block"));

    x.del_policy(&PolicyId::from(&p)).await.unwrap();
    assert!(ip_policies(&ns).is_empty());
    assert!(x.policies().await.unwrap().is_empty());
    let e = x.del_policy(&PolicyId::from(&p)).await.unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENOENT), "{e}");
}

#[tokio::test]
async fn policies_added_by_ip_are_read_back() {
    let ns = TestNs::new().await;
    ns.ip(&[
        "xfrm",
        "policy",
        "add",
        "src",
        "10.1.0.0/16",
        "dst",
        "10.2.0.0/16",
        "proto",
        "tcp",
        "dport",
        "80",
        "dir",
        "in",
        "action",
        "block",
        "priority",
        "9",
    ]);
    ns.ip(&[
        "xfrm",
        "policy",
        "add",
        "src",
        "fd00::/64",
        "dst",
        "fd01::/64",
        "dir",
        "fwd",
        "tmpl",
        "src",
        "fd00::1",
        "dst",
        "fd01::1",
        "proto",
        "esp",
        "mode",
        "tunnel",
        "reqid",
        "4",
        "level",
        "use",
    ]);
    ns.ip(&[
        "xfrm",
        "policy",
        "add",
        "src",
        "10.3.0.0/24",
        "dst",
        "10.4.0.0/24",
        "dir",
        "in",
        "tmpl",
        "proto",
        "ah",
        "spi",
        "0x55",
        "mode",
        "transport",
        "level",
        "use",
    ]);
    let x = ns.client().xfrm();
    let list = x.policies().await.unwrap();
    assert_eq!(list.len(), 3);
    let ipp = ip_policies(&ns);
    for p in &list {
        let i = ipp
            .iter()
            .find(|i| i.get("index") == Some(&p.index.to_string()))
            .expect("same index in ip");
        assert_eq!(i.selector, p.selector.to_string(), "selector text");
        assert_eq!(i.get("dir"), Some(p.dir.to_string().as_str()));
        assert_eq!(i.get("priority"), Some(p.priority.to_string().as_str()));
        assert_eq!(i.templates.len(), p.templates.len());
    }
    let block = list
        .iter()
        .find(|p| p.dir == Dir::In && p.templates.is_empty())
        .unwrap();
    assert_eq!(block.action, PolicyAction::Block);
    assert_eq!(block.selector.proto, 6);
    assert_eq!(
        (block.selector.dport, block.selector.dport_mask),
        (80, 0xffff)
    );
    let fwd = list.iter().find(|p| p.dir == Dir::Fwd).unwrap();
    let t = fwd.templates[0];
    assert_eq!((t.src, t.dst), (Some(ip("fd00::1")), Some(ip("fd01::1"))));
    assert_eq!((t.mode, t.reqid, t.level), (Mode::Tunnel, 4, Level::Use));
    let ah = list
        .iter()
        .find(|p| {
            p.templates
                .first()
                .is_some_and(|t| t.proto == IpsecProto::Ah)
        })
        .unwrap();
    assert_eq!(ah.templates[0].spi, 0x55);
    assert_eq!(ah.templates[0].src, None);
}

#[tokio::test]
async fn flush_and_spd_counts() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    for i in 0..3u8 {
        let sel = Selector::new(format!("10.0.{i}.0/24").as_str(), "10.9.0.0/16").unwrap();
        x.add_policy(&Policy::new(sel, Dir::Out)).await.unwrap();
    }
    let sel = Selector::new("fd00::/64", "fd01::/64").unwrap();
    x.add_policy(&Policy::new(sel, Dir::In)).await.unwrap();
    x.add_policy(&Policy::new(sel, Dir::Fwd)).await.unwrap();
    let info = x.spd_info().await.unwrap();
    assert_eq!((info.in_count, info.out_count, info.fwd_count), (1, 3, 1));
    let text = ns.ip(&["xfrm", "policy", "count"]);
    assert!(text.contains("SPD IN  1 OUT 3 FWD 1"), "{text}");
    assert!(info.hash_max >= info.hash_count);

    x.flush_policies().await.unwrap();
    assert!(x.policies().await.unwrap().is_empty());
    assert!(ip_policies(&ns).is_empty());
    let info = x.spd_info().await.unwrap();
    assert_eq!((info.in_count, info.out_count, info.fwd_count), (0, 0, 0));
}

#[tokio::test]
async fn default_policies_get_and_set() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    let d = x.default_policy().await.unwrap();
    assert_eq!(
        d,
        DefaultPolicy {
            input: DefaultAction::Accept,
            forward: DefaultAction::Accept,
            output: DefaultAction::Accept,
        }
    );
    x.set_default_policy(DefaultPolicy {
        forward: DefaultAction::Block,
        ..DefaultPolicy::default()
    })
    .await
    .unwrap();
    let d = x.default_policy().await.unwrap();
    assert_eq!(d.forward, DefaultAction::Block);
    assert_eq!(d.input, DefaultAction::Accept, "unspec leaves it");
    let text = ns.ip(&["xfrm", "policy", "getdefault"]);
    assert!(text.contains("fwd: block"), "{text}");
    assert!(text.contains("in:  accept"), "{text}");
}

#[tokio::test]
async fn bad_policies_give_clear_errors() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();

    // Refused before sending.
    let e = Selector::new("10.0.0.0/33", "10.0.1.0/24").unwrap_err();
    assert!(e.to_string().contains("longer than 32"), "{e}");
    let e = Selector::new("10.0.0.0/24", "fd00::/64").unwrap_err();
    assert!(e.to_string().contains("different families"), "{e}");
    let mut sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
    sel.dst_len = 40;
    let e = x.add_policy(&Policy::new(sel, Dir::Out)).await.unwrap_err();
    assert!(
        matches!(e, tokio_netlink::Error::InvalidInput { .. }),
        "{e}"
    );
    let mut sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
    sel.src = Some(ip("fd00::"));
    let e = x.add_policy(&Policy::new(sel, Dir::Out)).await.unwrap_err();
    assert!(
        e.to_string().contains("not of the selector's family"),
        "{e}"
    );
    let mut t =
        Template::new(IpsecProto::Esp, Mode::Tunnel).endpoints(ip("1.1.1.1"), ip("2.2.2.2"));
    t.family = Some(tokio_netlink::route::address::Family::V6);
    let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
    let e = x
        .add_policy(&Policy::new(sel, Dir::Out).template(t))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("family"), "{e}");

    // The kernel's own checks, through the raw requester: a selector prefix
    // longer than the address.
    let mut b = vec![0u8; 168];
    b[40..42].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
    b[42] = 33;
    b[56..88].fill(0xff);
    b[160] = 1;
    let e = x
        .requester()
        .ack(
            tokio_netlink::xfrm::XfrmMessage {
                message_type: msg::NEWPOLICY,
                payload: b,
            },
            0x600,
        )
        .await
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::EINVAL), "{e}");
    assert!(e.to_string().contains("prefix length"), "kernel text: {e}");

    // An optional (level use) tunnel template in an outbound policy.
    let t = Template::new(IpsecProto::Esp, Mode::Tunnel)
        .endpoints(ip("192.0.2.1"), ip("192.0.2.2"))
        .level(Level::Use);
    let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
    let e = x
        .add_policy(&Policy::new(sel, Dir::Out).template(t))
        .await
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::EINVAL), "{e}");
    assert!(
        e.to_string().contains("optional template"),
        "kernel text: {e}"
    );
    assert!(x.policies().await.unwrap().is_empty());

    // Address text: refused naming the field, before anything is sent.
    let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
    let t = Template::new(IpsecProto::Esp, Mode::Tunnel).endpoints("192.0.2.1", "192.0.2.x");
    let e = x
        .add_policy(&Policy::new(sel, Dir::Out).template(t))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.cause(),
            tokio_netlink::Error::InvalidInput {
                field: "tmpl dst",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("\"192.0.2.x\""), "{e}");
    let id = StateId::new("no-such-address", IpsecProto::Esp, 0x100);
    let e = x.del_state(&id).await.unwrap_err();
    assert!(
        matches!(
            e.cause(),
            tokio_netlink::Error::InvalidInput { field: "dst", .. }
        ),
        "{e}"
    );
    let s = State::new("10.0.0.1", "10.0.0.2", IpsecProto::Esp, 1).coaddr("::g");
    let e = x.add_state(&s).await.unwrap_err();
    assert!(
        matches!(
            e.cause(),
            tokio_netlink::Error::InvalidInput { field: "coa", .. }
        ),
        "{e}"
    );
    let e = x
        .alloc_spi(&AllocSpi::new("10.0.0.1", "", IpsecProto::Esp, 1, 2))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.cause(),
            tokio_netlink::Error::InvalidInput { field: "dst", .. }
        ),
        "{e}"
    );
    assert!(x.policies().await.unwrap().is_empty());
}

/// Addresses as text, as `ip xfrm` takes them, end up as the same policy.
#[tokio::test]
async fn templates_take_address_text() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
    let t = Template::new(IpsecProto::Esp, Mode::Tunnel)
        .endpoints("2001:db8::1", "2001:db8::2")
        .reqid(9);
    x.add_policy(&Policy::new(sel, Dir::Out).template(t))
        .await
        .unwrap();
    let got = x.policies().await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].templates[0].src, Some(ip("2001:db8::1")));
    let ipp = ip_policies(&ns);
    let tmpl = &ipp[0].templates[0];
    assert_eq!(tmpl_get(tmpl, "src"), Some("2001:db8::1"), "{tmpl:?}");
    assert_eq!(tmpl_get(tmpl, "dst"), Some("2001:db8::2"), "{tmpl:?}");
}

async fn next_event(m: &mut tokio_netlink::xfrm::Monitor) -> XfrmEvent {
    tokio::time::timeout(Duration::from_secs(5), m.next())
        .await
        .expect("an event within 5 s")
        .expect("stream open")
}

#[tokio::test]
async fn monitor_sees_policy_changes() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    let mut m = x.monitor(&Group::all());
    m.ready().await.unwrap();

    let p = out_policy();
    x.add_policy(&p).await.unwrap();
    match next_event(&mut m).await {
        XfrmEvent::NewPolicy(got) => {
            assert_eq!(got.selector, p.selector);
            assert_eq!(got.templates, p.templates);
            assert_eq!(got.mark, p.mark);
        }
        other => panic!("{other:?}"),
    }
    x.update_policy(&p.clone().priority(1)).await.unwrap();
    match next_event(&mut m).await {
        XfrmEvent::UpdatePolicy(got) => assert_eq!(got.priority, 1),
        other => panic!("{other:?}"),
    }
    x.del_policy(&PolicyId::from(&p)).await.unwrap();
    match next_event(&mut m).await {
        XfrmEvent::DelPolicy(got) => {
            assert_eq!(got.selector, p.selector);
            assert_eq!(got.dir, Dir::Out);
            assert_eq!(got.priority, 1);
            assert_eq!(got.if_id, Some(7));
        }
        other => panic!("{other:?}"),
    }
    // An `ip` change is seen too, then a flush.
    ns.ip(&[
        "xfrm",
        "policy",
        "add",
        "src",
        "10.5.0.0/16",
        "dst",
        "10.6.0.0/16",
        "dir",
        "in",
    ]);
    match next_event(&mut m).await {
        XfrmEvent::NewPolicy(got) => assert_eq!(got.dir, Dir::In),
        other => panic!("{other:?}"),
    }
    x.flush_policies().await.unwrap();
    assert!(matches!(next_event(&mut m).await, XfrmEvent::FlushPolicies));
    assert_eq!(m.losses(), 0);
}

/// Sends one UDP datagram from inside namespace `ns`, with XFRM enabled on
/// loopback (which bypasses it by default).
fn send_udp_in(ns: &str, from: &str, to: &str) {
    let path = format!("/run/netns/{ns}");
    let (from, to) = (from.to_owned(), to.to_owned());
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        let f = std::fs::File::open(&path).expect("open netns");
        assert_eq!(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
        std::fs::write("/proc/sys/net/ipv4/conf/lo/disable_xfrm", "0").expect("sysctl");
        let s = std::net::UdpSocket::bind(format!("{from}:0")).expect("bind");
        let _ = s.send_to(b"x", format!("{to}:9"));
    })
    .join()
    .unwrap();
}

#[tokio::test]
async fn monitor_sees_an_acquire() {
    // An acquire needs no ESP support: the host kernel sends it too.
    let ns = TestNs::new().await;
    ns.ip(&["addr", "add", "10.7.0.1/24", "dev", "lo"]);
    let x = ns.client().xfrm();
    let mut m = x.monitor(&[Group::Acquire]);
    m.ready().await.unwrap();
    let sel = Selector::new("10.7.0.1/32", "10.7.0.2/32")
        .unwrap()
        .proto(17);
    let tmpl = Template::new(IpsecProto::Esp, Mode::Transport).reqid(42);
    x.add_policy(&Policy::new(sel, Dir::Out).template(tmpl))
        .await
        .unwrap();
    send_udp_in(&ns.name, "10.7.0.1", "10.7.0.2");
    match next_event(&mut m).await {
        XfrmEvent::Acquire(a) => {
            assert_eq!(a.proto, IpsecProto::Esp);
            assert_eq!(a.dst, Some(ip("10.7.0.2")));
            assert_eq!(a.src, Some(ip("10.7.0.1")));
            assert_eq!(a.selector.dport, 9);
            assert_eq!(a.policy.selector, sel);
            assert_eq!(a.templates.first().map(|t| t.reqid), Some(42));
        }
        other => panic!("expected an acquire, got {other:?}"),
    }
}

/// True when an LSM with XFRM hooks (SELinux) is active: only then does
/// the kernel keep a security context.
fn xfrm_lsm_active() -> bool {
    std::path::Path::new("/sys/fs/selinux").exists()
}

#[tokio::test]
async fn policy_security_context_is_accepted_and_kept_only_by_an_xfrm_lsm() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    let ctx = SecCtx::new("system_u:object_r:ipsec_spd_t:s0");
    let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
    let p = Policy::new(sel, Dir::Out).sec_ctx(ctx.clone());
    x.add_policy(&p).await.unwrap();
    let list = x.policies().await.unwrap();
    assert_eq!(list.len(), 1);
    let text = ns.ip(&["xfrm", "policy"]);
    if xfrm_lsm_active() {
        assert_eq!(list[0].sec_ctx.as_ref(), Some(&ctx));
        assert!(text.contains("security context"), "{text}");
    } else {
        // No LSM implements the XFRM hooks (the host runs lockdown,
        // capability, landlock, bpf): the kernel accepts the context and
        // keeps none, so it reads back without one, in ip too, and it does
        // not tell policies apart: the same selector again is EEXIST.
        assert_eq!(list[0].sec_ctx, None);
        assert!(!text.contains("security context"), "{text}");
        let e = x.add_policy(&Policy::new(sel, Dir::Out)).await.unwrap_err();
        assert_eq!(e.errno(), Some(libc::EEXIST), "{e}");
        // A policy ip adds with `ctx` reads back the same way.
        ns.ip(&[
            "xfrm",
            "policy",
            "add",
            "src",
            "10.2.0.0/24",
            "dst",
            "10.3.0.0/24",
            "dir",
            "in",
            "ctx",
            "system_u:object_r:ipsec_spd_t:s0",
        ]);
        let by_ip = x
            .get_policy(&PolicyId::by_selector(
                Selector::new("10.2.0.0/24", "10.3.0.0/24").unwrap(),
                Dir::In,
            ))
            .await
            .unwrap();
        assert_eq!(by_ip.sec_ctx, None);
        x.del_policy(&PolicyId::from(&by_ip)).await.unwrap();
    }
    // get and delete with the context, as `ip xfrm policy delete … ctx`.
    let id = PolicyId::from(&p);
    assert_eq!(id.sec_ctx.as_ref(), Some(&ctx));
    x.get_policy(&id).await.unwrap();
    x.del_policy(&id).await.unwrap();

    // Refused before sending, naming the field.
    let long = SecCtx::new(&"u".repeat(SecCtx::MAX_LEN));
    let e = x
        .add_policy(&Policy::new(sel, Dir::Out).sec_ctx(long))
        .await
        .unwrap_err();
    assert!(
        matches!(e, tokio_netlink::Error::InvalidInput { field: "ctx", .. }),
        "{e}"
    );
    assert!(e.to_string().contains("longer than"), "{e}");
    let e = x
        .add_policy(&Policy::new(sel, Dir::Out).sec_ctx(SecCtx::new("")))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("invalid ctx: the security context is empty"),
        "{e}"
    );

    // The kernel's own check: a context whose lengths disagree.
    let mut b = vec![0u8; 168];
    b[40..42].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
    b[56..88].fill(0xff);
    b[160] = 1;
    let ctx_len: u16 = 4;
    let mut v = Vec::new();
    v.extend_from_slice(&(8 + ctx_len + 1).to_ne_bytes()); // len: one too many
    v.extend_from_slice(&8u16.to_ne_bytes());
    v.extend_from_slice(&[1, 1]);
    v.extend_from_slice(&ctx_len.to_ne_bytes());
    v.extend_from_slice(b"abc\0");
    b.extend_from_slice(&((4 + v.len()) as u16).to_ne_bytes());
    b.extend_from_slice(&8u16.to_ne_bytes());
    b.extend_from_slice(&v);
    let e = x
        .requester()
        .ack(
            tokio_netlink::xfrm::XfrmMessage {
                message_type: msg::NEWPOLICY,
                payload: b,
            },
            0x600,
        )
        .await
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::EINVAL), "{e}");
    assert!(
        e.to_string().contains("Invalid security context length"),
        "kernel text: {e}"
    );
    assert!(x.policies().await.unwrap().is_empty());
}

#[tokio::test]
async fn migrate_moves_a_template_and_is_announced() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    let mut m = x.monitor(&[Group::Migrate]);
    m.ready().await.unwrap();
    let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
    let tmpl = Template::new(IpsecProto::Esp, Mode::Tunnel)
        .endpoints(ip("192.0.2.1"), ip("192.0.2.2"))
        .reqid(1);
    x.add_policy(&Policy::new(sel, Dir::Out).template(tmpl))
        .await
        .unwrap();
    let entry = MigrateEntry::tunnel(
        IpsecProto::Esp,
        (ip("192.0.2.1"), ip("192.0.2.2")),
        (ip("198.51.100.1"), ip("198.51.100.2")),
    );
    let mig = Migrate::new(sel, Dir::Out, entry).kmaddress(ip("198.51.100.1"), ip("198.51.100.2"));
    x.migrate(&mig).await.unwrap();

    // The template moved, in ip's view and ours.
    let ipp = ip_policies(&ns);
    let t = &ipp[0].templates[0];
    assert_eq!(tmpl_get(t, "src"), Some("198.51.100.1"), "{t:?}");
    assert_eq!(tmpl_get(t, "dst"), Some("198.51.100.2"), "{t:?}");
    let got = x
        .get_policy(&PolicyId::by_selector(sel, Dir::Out))
        .await
        .unwrap();
    assert_eq!(
        (got.templates[0].src, got.templates[0].dst),
        (Some(ip("198.51.100.1")), Some(ip("198.51.100.2")))
    );

    // The announcement, typed.
    match next_event(&mut m).await {
        XfrmEvent::Migrate(got) => {
            assert_eq!(got.selector, sel);
            assert_eq!(got.dir, Dir::Out);
            assert_eq!(got.entries, vec![entry]);
            assert_eq!(got.kmaddress, mig.kmaddress);
            assert_eq!(got.encap, None);
        }
        other => panic!("expected a migrate, got {other:?}"),
    }

    // No policy of that selector; no template matching the entry.
    let other = Selector::new("10.9.0.0/24", "10.0.1.0/24").unwrap();
    let e = x
        .migrate(&Migrate::new(other, Dir::Out, entry))
        .await
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENOENT), "{e}");
    assert!(
        e.to_string().contains("Target policy not found"),
        "kernel text: {e}"
    );
    let mut ah = entry;
    ah.proto = IpsecProto::Ah;
    let e = x
        .migrate(&Migrate::new(sel, Dir::Out, ah))
        .await
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENODATA), "{e}");
    // Refused before sending: nothing to move.
    let mut empty = Migrate::new(sel, Dir::Out, entry);
    empty.entries.clear();
    let e = x.migrate(&empty).await.unwrap_err();
    assert!(e.to_string().starts_with("invalid migrate: "), "{e}");
    // The kernel's own check, through the raw requester: no XFRMA_MIGRATE.
    let mut b = vec![0u8; 64];
    b[40..42].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
    b[60] = 1;
    let e = x
        .requester()
        .ack(
            tokio_netlink::xfrm::XfrmMessage {
                message_type: msg::MIGRATE,
                payload: b,
            },
            0,
        )
        .await
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::EINVAL), "{e}");
    assert!(
        e.to_string().contains("Missing required MIGRATE attribute"),
        "kernel text: {e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_reports_losses_as_items_and_goes_on() {
    let ns = TestNs::new().await;
    let nl = tokio_netlink::Netlink::builder()
        .netns(ns.name.as_str())
        .event_receive_buffer(4096)
        .build()
        .unwrap();
    let x = nl.xfrm();
    let mut m = x.monitor(&[Group::Policy]);
    m.ready().await.unwrap();
    // A flood nobody reads: 1,000 adds and deletes, far more than 4 KiB of
    // notifications.
    let policies: Vec<Policy> = (0..500u32)
        .map(|i| {
            let src = format!("10.{}.{}.0/24", i / 256, i % 256);
            Policy::new(
                Selector::new(src.as_str(), "10.255.0.0/24").unwrap(),
                Dir::Out,
            )
        })
        .collect();
    for r in futures::future::join_all(policies.iter().map(|p| x.add_policy(p))).await {
        r.unwrap();
    }
    let ids: Vec<PolicyId> = policies.iter().map(PolicyId::from).collect();
    for r in futures::future::join_all(ids.iter().map(|id| x.del_policy(id))).await {
        r.unwrap();
    }
    // The loss is an item of the stream, among what the buffer kept.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut before_loss = 0;
    loop {
        match tokio::time::timeout_at(deadline, m.next()).await {
            Ok(Some(XfrmEvent::Lost)) => break,
            Ok(Some(XfrmEvent::NewPolicy(_) | XfrmEvent::DelPolicy(_))) => before_loss += 1,
            Ok(Some(other)) => panic!("unexpected event {other:?}"),
            Ok(None) => panic!("stream ended"),
            Err(_) => panic!("no Lost item within 10 s ({before_loss} events)"),
        }
    }
    assert!(m.losses() >= 1);
    assert!(before_loss < 1000, "{before_loss} events and a loss");
    // Read what the buffer still holds (a full buffer drops new events too).
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), m.next()).await {}
    // The stream is still alive: a later change arrives, typed.
    let p = out_policy();
    x.add_policy(&p).await.unwrap();
    match next_event(&mut m).await {
        XfrmEvent::NewPolicy(got) => assert_eq!(got.selector, p.selector),
        other => panic!("expected the new policy after the loss, got {other:?}"),
    }
}

#[tokio::test]
async fn sub_policies_add_list_get_delete() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    let sel = Selector::new("10.0.0.0/24", "10.0.1.0/24").unwrap();
    let sub = Policy::new(sel, Dir::Out).policy_type(1).priority(3);
    x.add_policy(&sub).await.unwrap();
    // The same selector as a main policy is another policy.
    x.add_policy(&Policy::new(sel, Dir::Out)).await.unwrap();
    let ipp = ip_policies(&ns);
    assert_eq!(ipp.len(), 2, "{ipp:?}");
    assert!(ipp.iter().any(|p| p.get("ptype") == Some("sub")), "{ipp:?}");
    let list = x.policies().await.unwrap();
    let got = list.iter().find(|p| p.policy_type == Some(1)).unwrap();
    assert_eq!(got.priority, 3);
    let id = PolicyId::from(&sub);
    assert_eq!(id.policy_type, Some(1));
    assert_eq!(x.get_policy(&id).await.unwrap().priority, 3);
    x.del_policy(&id).await.unwrap();
    let left = x.policies().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_ne!(left[0].policy_type, Some(1));
}

/// A policy with `n` templates whose second smuggles an XFRMA_IF_ID of 0x2a
/// in its destination address: were the XFRMA_TMPL length to wrap at 16
/// bits (1,025 templates: 4 + 65,600 bytes is 68 mod 65,536), the kernel
/// would read one template and then that address as an attribute.
fn smuggling_policy(n: usize) -> Policy {
    let t = Template::new(IpsecProto::Esp, Mode::Tunnel).endpoints(ip("fd00::1"), ip("fd00::2"));
    let mut forged = [0u8; 16];
    forged[..2].copy_from_slice(&8u16.to_ne_bytes());
    forged[2..4].copy_from_slice(&31u16.to_ne_bytes()); // XFRMA_IF_ID
    forged[4..8].copy_from_slice(&0x2au32.to_ne_bytes());
    let mut smuggler = t;
    smuggler.dst = Some(IpAddr::from(forged));
    let mut templates = vec![t; n];
    templates[1] = smuggler;
    let sel = Selector::new("10.9.0.0/24", "10.9.1.0/24").unwrap();
    Policy {
        templates,
        ..Policy::new(sel, Dir::Out).priority(7)
    }
}

#[tokio::test]
async fn more_templates_than_xfrm_max_depth_are_refused_and_nothing_is_added() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    x.add_policy(&out_policy()).await.unwrap();
    let before_ip = ns.ip(&["xfrm", "policy", "list"]);
    let before = x.policies().await.unwrap();

    for n in [7, 1025] {
        let p = smuggling_policy(n);
        for r in [x.add_policy(&p).await, x.update_policy(&p).await] {
            let e = r.unwrap_err();
            assert!(
                matches!(e, tokio_netlink::Error::InvalidInput { field: "tmpl", .. }),
                "{n} templates: {e}"
            );
            assert!(e.to_string().contains("at most 6"), "{e}");
        }
    }
    // XFRM_MAX_DEPTH itself is accepted and kept whole.
    let six = smuggling_policy(tokio_netlink::xfrm::XFRM_MAX_DEPTH);
    x.add_policy(&six).await.unwrap();
    let got = x.get_policy(&PolicyId::from(&six)).await.unwrap();
    assert_eq!(got.templates, six.templates);
    assert_eq!(got.if_id, None);
    x.del_policy(&PolicyId::from(&six)).await.unwrap();

    // The kernel's table is as it was, for us and for ip.
    assert_eq!(x.policies().await.unwrap(), before);
    let after_ip = ns.ip(&["xfrm", "policy", "list"]);
    assert_eq!(after_ip, before_ip);
    assert!(!after_ip.contains("0x2a"), "{after_ip}");
}

/// What the refused policy would have done: the same bytes with the
/// wrapped length, sent raw, give a policy of one template and an if_id
/// nobody set (this is the attack the check above prevents).
#[tokio::test]
async fn a_wrapped_template_length_smuggles_attributes_into_the_kernel() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    let p = smuggling_policy(1025);
    let mut b = vec![0u8; 168];
    b[16..20].copy_from_slice(&[10, 9, 0, 0]); // saddr
    b[0..4].copy_from_slice(&[10, 9, 1, 0]); // daddr
    b[40..42].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
    (b[42], b[43]) = (24, 24);
    b[56..88].fill(0xff); // no byte or packet limits
    b[152..156].copy_from_slice(&7u32.to_ne_bytes());
    b[160] = 1; // dir out
    let value_len = 64 * p.templates.len();
    b.extend_from_slice(&((4 + value_len) as u16).to_ne_bytes()); // wraps to 68
    b.extend_from_slice(&5u16.to_ne_bytes()); // XFRMA_TMPL
    for t in &p.templates {
        let mut e = [0u8; 64];
        let v6 = |a: Option<IpAddr>| match a {
            Some(IpAddr::V6(a)) => a.octets(),
            other => panic!("{other:?}"),
        };
        e[0..16].copy_from_slice(&v6(t.dst));
        e[20] = 50; // esp
        e[24..26].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
        e[28..44].copy_from_slice(&v6(t.src));
        e[48] = 1; // tunnel
        e[52..64].fill(0xff);
        b.extend_from_slice(&e);
    }
    x.requester()
        .ack(
            tokio_netlink::xfrm::XfrmMessage {
                message_type: msg::NEWPOLICY,
                payload: b,
            },
            0x600,
        )
        .await
        .unwrap();
    let list = x.policies().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].templates.len(), 1, "the kernel kept one");
    assert_eq!(list[0].if_id, Some(0x2a), "and read the address as if_id");
    let text = ns.ip(&["xfrm", "policy", "list"]);
    assert!(text.contains("if_id 0x2a"), "{text}");
}

#[tokio::test]
async fn get_policy_by_index_zero_names_the_index() {
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    let p = out_policy();
    x.add_policy(&p).await.unwrap();
    let e = x.get_policy(&PolicyId::by_index(0)).await.unwrap_err();
    assert!(
        matches!(e, tokio_netlink::Error::InvalidInput { field: "index", .. }),
        "{e}"
    );
    let e = x.del_policy(&PolicyId::by_index(0)).await.unwrap_err();
    assert!(
        matches!(e, tokio_netlink::Error::InvalidInput { field: "index", .. }),
        "{e}"
    );
    // A real index finds it.
    let index = x.policies().await.unwrap()[0].index;
    assert_ne!(index, 0);
    let got = x
        .get_policy(&PolicyId::by_index(index).mark(p.mark.unwrap()).if_id(7))
        .await
        .unwrap();
    assert_eq!(got.selector, p.selector);
}

/// States cannot be added on the host (no ESP/AH), but these are refused
/// before anything is sent: every variable-length part against its
/// attribute's 16-bit length and the kernel's limits.
#[tokio::test]
async fn oversized_state_parts_are_refused_before_sending() {
    use tokio_netlink::xfrm::{Algorithm, State};
    let ns = TestNs::new().await;
    let x = ns.client().xfrm();
    let a = ip("192.0.2.1");
    let s = || State::new(a, ip("192.0.2.2"), IpsecProto::Esp, 0x100);
    let key = vec![7u8; Algorithm::MAX_KEY_LEN + 1];
    let cases = [
        ("enc", s().enc("cbc(aes)", &key)),
        ("auth", s().auth("hmac(sha1)", &key)),
        ("aead", s().aead("rfc4106(gcm(aes))", &key, 128)),
        ("ctx", s().sec_ctx(SecCtx::new(&"u".repeat(70_000)))),
        ("replay-window", s().replay_window(4097)),
        ("enc", s().enc("cbc(aes)\0x", &[1; 16])),
        ("enc", s().enc(&"a".repeat(64), &[1; 16])),
    ];
    for (field, st) in cases {
        for r in [x.add_state(&st).await, x.update_state(&st).await] {
            let e = r.unwrap_err();
            assert!(
                matches!(e, tokio_netlink::Error::InvalidInput { field: f, .. } if f == field),
                "{field}: {e}"
            );
        }
    }
}
