//! The genl example against iproute2's `genl` in the same fresh namespace:
//! `ctrl list`, `ctrl get name NAME` and `ctrl get id ID` (every family)
//! byte for byte, and an unknown or malformed name or id an error with exit
//! status 1.

mod common;

use std::process::Command;

use common::TestNs;
use common::ip_example::{Out, build_example, run_bin};

/// Runs `genl-example -n NS ARGS`.
fn run(ns: &TestNs, args: &[&str]) -> Out {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    run_bin(BIN.get_or_init(|| build_example("genl")), ns, args)
}

/// iproute2's `genl ARGS` in the namespace.
fn genl(ns: &TestNs, args: &[&str]) -> String {
    let o = Command::new("ip")
        .args(["netns", "exec", &ns.name, "genl"])
        .args(args)
        .output()
        .expect("run genl");
    assert!(
        o.status.success(),
        "genl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf8")
}

/// Both print the same bytes, and the example nothing on stderr.
fn same(ns: &TestNs, args: &[&str]) -> String {
    let theirs = genl(ns, args);
    let o = run(ns, args);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""), "example {args:?}");
    assert_eq!(o.stdout, theirs, "genl {args:?}");
    theirs
}

#[tokio::test]
async fn ctrl_list_and_get_print_what_genl_prints() {
    let ns = TestNs::new().await;
    let list = same(&ns, &["ctrl", "list"]);
    let names: Vec<&str> = list
        .lines()
        .filter_map(|l| l.strip_prefix("Name: "))
        .collect();
    assert!(names.contains(&"nlctrl") && names.len() > 3, "{list}");
    for name in names {
        same(&ns, &["ctrl", "get", "name", name]);
    }
    for id in list.lines().filter_map(|l| l.strip_prefix("\tID: ")) {
        let id = id.split_whitespace().next().expect("an id");
        same(&ns, &["ctrl", "get", "id", id]);
    }
    assert_eq!(
        same(&ns, &["ctrl", "get", "id", "16"]),
        genl(&ns, &["ctrl", "get", "id", "0x10"])
    );
    let nlctrl = same(&ns, &["ctrl", "get", "name", "nlctrl"]);
    assert!(
        nlctrl.starts_with("\nName: nlctrl\n\tID: 0x10  Version: 0x2 "),
        "{nlctrl}"
    );
    assert!(nlctrl.contains("\t\tCapabilities (0xe):\n \t\t  can doit; can dumpit; has policy\n"));
    assert!(nlctrl.contains("\tmulticast groups:\n\t\t#1:  ID-0x10  name: notify \n"));
}

#[tokio::test]
async fn unknown_and_malformed_names_fail_with_a_message() {
    let ns = TestNs::new().await;
    let o = run(&ns, &["ctrl", "get", "name", "tnlnosuch0"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(o.stdout, "");
    assert_eq!(
        o.stderr,
        "genl: genl ctrl get name tnlnosuch0: no such family\n"
    );
    let o = run(&ns, &["ctrl", "get", "name", &"x".repeat(16)]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.starts_with("genl: invalid family: "),
        "{}",
        o.stderr
    );
    let o = run(&ns, &["ctrl", "get", "id", "0x3ff"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(o.stderr, "genl: genl ctrl get id 0x3ff: no such family\n");
    let o = run(&ns, &["ctrl", "get", "id", "0x10000"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "genl: invalid id \"0x10000\": not a 16-bit number\n")
    );
    let o = run(&ns, &["ctrl", "frobnicate"]);
    assert_eq!(o.code, 2, "usage");
    assert!(o.stderr.starts_with("usage: "), "{}", o.stderr);
}
