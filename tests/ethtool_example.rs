//! The ethtool example against `/usr/sbin/ethtool` in the same fresh
//! namespace (a veth pair of 4 queues): `-k` and `-l` byte for byte, also
//! after the example's own `-K` and `-L`; `ethtool DEV`'s lines it prints
//! in ethtool's order; bad input an error with exit status 1.

mod common;

use std::process::Command;

use common::TestNs;
use common::ip_example::{Out, build_example, run_bin};

fn run(ns: &TestNs, args: &[&str]) -> Out {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    run_bin(BIN.get_or_init(|| build_example("ethtool")), ns, args)
}

fn ethtool(ns: &TestNs, args: &[&str]) -> String {
    let o = Command::new("ip")
        .args(["netns", "exec", &ns.name, "ethtool"])
        .args(args)
        .output()
        .expect("run ethtool");
    assert!(
        o.status.success(),
        "ethtool {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf8")
}

fn same(ns: &TestNs, args: &[&str]) {
    let theirs = ethtool(ns, args);
    let o = run(ns, args);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""), "example {args:?}");
    assert_eq!(o.stdout, theirs, "ethtool {args:?}");
}

fn ok(ns: &TestNs, args: &[&str]) {
    let o = run(ns, args);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""), "example {args:?}");
}

#[tokio::test]
async fn k_l_and_dev_print_what_ethtool_prints() {
    let ns = TestNs::new().await;
    let q = ["numtxqueues", "4", "numrxqueues", "4"];
    let mut args = vec!["link", "add", "v0"];
    args.extend(q);
    args.extend(["type", "veth", "peer", "v1"]);
    args.extend(q);
    ns.ip(&args);
    ns.ip(&["link", "set", "v0", "up"]);
    ns.ip(&["link", "set", "v1", "up"]);
    for dev in ["v0", "v1", "lo"] {
        same(&ns, &["-k", dev]);
    }
    same(&ns, &["-l", "v0"]);

    ok(
        &ns,
        &["-K", "v0", "gro", "on", "tx-tcp6-segmentation", "off"],
    );
    same(&ns, &["-k", "v0"]);
    assert!(ethtool(&ns, &["-k", "v0"]).contains("\ngeneric-receive-offload: on\n"));
    ok(&ns, &["-L", "v0", "rx", "1", "tx", "2"]);
    same(&ns, &["-l", "v0"]);
    assert!(
        ethtool(&ns, &["-l", "v0"])
            .ends_with("RX:\t\t1\nTX:\t\t2\nOther:\t\tn/a\nCombined:\tn/a\n")
    );

    // Ours is ethtool's text without the link mode lists it cannot print.
    let theirs = ethtool(&ns, &["v0"]);
    let o = run(&ns, &["v0"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let mut rest = theirs.lines();
    for line in o.stdout.lines() {
        assert!(
            rest.any(|l| l == line),
            "{line:?} out of order in\n{theirs}"
        );
    }
    assert!(
        o.stdout.contains("\tSpeed: 10000Mb/s\n\tDuplex: Full\n"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.ends_with("\tLink detected: yes\n"), "{}", o.stdout);

    for (args, why) in [
        (&["-K", "v0", "warp", "on"][..], "invalid feature"),
        (
            &["-K", "v0", "tx-checksum-ipv4", "on"],
            "Could not change any device features",
        ),
        (&["-L", "v0", "rx", "9"], "ethtool -L v0: Invalid argument"),
        (&["-g", "v0"], "ethtool -g v0: Operation not supported"),
        (&["-k", "nosuch0"], "no such link"),
    ] {
        let o = run(&ns, args);
        assert_eq!(o.code, 1, "{args:?}: {}", o.stdout);
        assert!(o.stderr.contains(why), "{args:?}: {}", o.stderr);
    }
}
