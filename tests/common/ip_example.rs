//! Running the `ip` example against iproute2: shared by the tests that
//! compare its output with `ip`'s (tests/ip_example*.rs).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use super::TestNs;

/// The example binary, built once (a no-op when fresh) next to this test's
/// own profile directory (target/<profile>/examples/ip).
pub fn example() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| build_example("ip"))
}

/// Builds `examples/NAME` with the test binary's profile; returns its path.
pub fn build_example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/TEST-HASH
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("profile dir");
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(p) => p,
    };
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--example", name, "--profile", profile])
        .args(["--manifest-path", manifest])
        .status()
        .expect("run cargo build --example");
    assert!(status.success(), "cargo build --example {name} failed");
    let bin = profile_dir.join("examples").join(name);
    assert!(bin.exists(), "{} missing after the build", bin.display());
    bin
}

/// What a run of the example left.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `ip-example -n NS ARGS`.
pub fn run(ns: &TestNs, args: &[&str]) -> Out {
    run_bin(example(), ns, args)
}

/// Runs the example binary `bin` with `-n NS ARGS`.
pub fn run_bin(bin: &std::path::Path, ns: &TestNs, args: &[&str]) -> Out {
    let o = Command::new(bin)
        .arg("-n")
        .arg(&ns.name)
        .args(args)
        .output()
        .expect("run the example");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8(o.stdout).expect("utf8"),
        stderr: String::from_utf8(o.stderr).expect("utf8"),
    }
}

/// Runs the example, which must succeed; returns its stdout.
pub fn ex(ns: &TestNs, line: &str) -> String {
    let args: Vec<&str> = line.split_whitespace().collect();
    let o = run(ns, &args);
    assert_eq!(o.code, 0, "example {line:?} failed: {}", o.stderr);
    assert!(o.stderr.is_empty(), "example {line:?} wrote {}", o.stderr);
    o.stdout
}

/// Runs the example with `-j`, which must succeed; returns its JSON.
pub fn ex_json(ns: &TestNs, args: &[&str]) -> Value {
    let mut all = vec!["-j"];
    all.extend_from_slice(args);
    let o = run(ns, &all);
    assert_eq!(o.code, 0, "example {args:?} failed: {}", o.stderr);
    serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("bad JSON from example {args:?}: {e}"))
}

/// `a.b` inside a JSON value.
pub fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

/// Differences between `ip ARGS` and the example's text, line by line.
pub fn text_diff(ns: &TestNs, args: &[&str]) -> Vec<String> {
    let ip = ns.ip(args);
    let o = run(ns, args);
    assert_eq!(o.code, 0, "example {args:?} failed: {}", o.stderr);
    let (a, b): (Vec<&str>, Vec<&str>) = (ip.lines().collect(), o.stdout.lines().collect());
    let mut bad: Vec<String> = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x.trim_end() != y.trim_end())
        .map(|(x, y)| format!("ip:      {x}\nexample: {y}"))
        .collect();
    if a.len() != b.len() {
        bad.push(format!(
            "ip printed {} lines, the example {}",
            a.len(),
            b.len()
        ));
    }
    bad
}

/// Retries `diff` while the namespace settles (carrier, operstate, IPv6
/// DAD change for a moment after links go up); fails with the last diff.
pub fn settled(what: &str, mut diff: impl FnMut() -> Vec<String>) {
    let mut bad = Vec::new();
    for _ in 0..25 {
        bad = diff();
        if bad.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{what}: the example disagrees with ip:\n{}", bad.join("\n"));
}

/// New IPv6 addresses skip DAD, so they settle at once.
pub fn no_dad(ns: &TestNs) {
    let _ = Command::new("ip")
        .args(["netns", "exec", &ns.name, "sh", "-c"])
        .arg("echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad")
        .status();
}

/// Runs the example once per non-empty line of `script`.
pub fn script(ns: &TestNs, script: &str) {
    for line in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
        ex(ns, line);
    }
}

/// Differences between two JSON arrays of objects (as `ip -j` prints a
/// listing), element by element and key by key over the keys of both; `id`
/// names each element in the report.
pub fn list_diff(what: &str, ip: &Value, ours: &Value, id: &str) -> Vec<String> {
    let none = Vec::new();
    let (a, b) = (
        ip.as_array().unwrap_or(&none),
        ours.as_array().unwrap_or(&none),
    );
    let mut bad = Vec::new();
    if a.len() != b.len() {
        bad.push(format!(
            "{what}: ip printed {} entries, the example {}\nip:      {ip}\nexample: {ours}",
            a.len(),
            b.len()
        ));
    }
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let name = format!("{what}[{i}] {}", x.get(id).unwrap_or(&Value::Null));
        let empty = serde_json::Map::new();
        let (xo, yo) = (
            x.as_object().unwrap_or(&empty),
            y.as_object().unwrap_or(&empty),
        );
        let mut keys: Vec<&String> = xo.keys().chain(yo.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            if xo.get(k) != yo.get(k) {
                bad.push(format!(
                    "{name}.{k}: ip {:?}, example {:?}",
                    xo.get(k),
                    yo.get(k)
                ));
            }
        }
    }
    bad
}

/// `ip -j ARGS` and the example's `-j ARGS`, compared with [`list_diff`].
pub fn json_list_diff(ns: &TestNs, args: &[&str], id: &str) -> Vec<String> {
    let (ip, ours) = (ns.ip_json(args), ex_json(ns, args));
    list_diff(&args.join(" "), &ip, &ours, id)
}
