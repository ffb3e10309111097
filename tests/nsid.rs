//! NsIdHandle against the kernel, cross-checked with `ip netns list-id`.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::TestNs;
use tokio_netlink::Error;
use tokio_netlink::netns::NetnsTarget;

/// `nsid N (iproute2 netns name: X)` lines of `ip -n NS netns list-id`.
fn ip_ids(ns: &TestNs) -> BTreeMap<i32, Option<String>> {
    ns.ip(&["netns", "list-id"])
        .lines()
        .map(|line| {
            let id = line
                .strip_prefix("nsid ")
                .and_then(|r| r.split_whitespace().next())
                .unwrap_or_else(|| panic!("unexpected line {line:?}"));
            let name = line
                .split_once("netns name: ")
                .map(|(_, n)| n.trim_end_matches(')').to_string());
            (id.parse().unwrap(), name)
        })
        .collect()
}

/// A `sleep` inside a namespace (`ip netns exec NS sleep 30`), killed on drop.
struct Sleeper(Child);

impl Sleeper {
    fn start(ns: &TestNs) -> Sleeper {
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name, "sleep", "30"])
            .spawn()
            .expect("spawn ip netns exec");
        let me = Sleeper(child);
        // ip joins the namespace and then execs sleep: wait until it has.
        let want = std::fs::metadata(format!("/run/netns/{}", ns.name))
            .unwrap()
            .ino();
        let deadline = Instant::now() + Duration::from_secs(5);
        let path = format!("/proc/{}/ns/net", me.pid());
        while std::fs::metadata(&path).map(|m| m.ino()).ok() != Some(want) {
            assert!(
                Instant::now() < deadline,
                "process never entered {}",
                ns.name
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        me
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn ids_set_by_name_fd_pid_and_path_agree_with_ip() {
    let home = TestNs::new().await;
    let (by_name, by_fd, by_pid, auto) = (
        TestNs::new().await,
        TestNs::new().await,
        TestNs::new().await,
        TestNs::new().await,
    );
    let ids = home.client().nsid();
    assert!(ids.list().await.unwrap().is_empty());
    assert_eq!(ids.get(by_name.name.as_str()).await.unwrap(), None);

    ids.set(by_name.name.as_str(), 5).await.unwrap();
    let fd: OwnedFd = File::open(format!("/run/netns/{}", by_fd.name))
        .unwrap()
        .into();
    ids.set(fd, 17).await.unwrap();
    let sleeper = Sleeper::start(&by_pid);
    ids.set(NetnsTarget::Pid(sleeper.pid()), 30).await.unwrap();
    let path = std::path::PathBuf::from(format!("/run/netns/{}", auto.name));
    ids.set(path.clone(), -1).await.unwrap();

    // get by every kind of target.
    assert_eq!(ids.get(by_name.name.as_str()).await.unwrap(), Some(5));
    assert_eq!(ids.get(by_fd.name.as_str()).await.unwrap(), Some(17));
    assert_eq!(
        ids.get(NetnsTarget::Pid(sleeper.pid())).await.unwrap(),
        Some(30)
    );
    let pid_fd: OwnedFd = File::open(format!("/proc/{}/ns/net", sleeper.pid()))
        .unwrap()
        .into();
    assert_eq!(ids.get(pid_fd).await.unwrap(), Some(30));
    let picked = ids.get(path).await.unwrap().expect("auto id assigned");
    assert!(picked >= 0 && ![5, 17, 30].contains(&picked), "{picked}");
    drop(sleeper);

    let from_ip = ip_ids(&home);
    let want: BTreeMap<i32, Option<String>> =
        [(5, &by_name), (17, &by_fd), (30, &by_pid), (picked, &auto)]
            .into_iter()
            .map(|(id, ns)| (id, Some(ns.name.clone())))
            .collect();
    assert_eq!(from_ip, want);
    let mut ours: Vec<i32> = ids.list().await.unwrap().iter().map(|i| i.nsid).collect();
    ours.sort();
    assert_eq!(ours, from_ip.keys().copied().collect::<Vec<_>>());
}

#[tokio::test]
async fn bad_ids_and_kernel_refusals() {
    let home = TestNs::new().await;
    let (a, b) = (TestNs::new().await, TestNs::new().await);
    let ids = home.client().nsid();
    for bad in [-2, i32::MIN] {
        match ids.set(a.name.as_str(), bad).await.unwrap_err() {
            Error::InvalidInput { field: "id", .. } => {}
            other => panic!("expected InvalidInput id, got {other:?}"),
        }
    }
    assert!(ip_ids(&home).is_empty(), "nothing reached the kernel");

    ids.set(a.name.as_str(), 3).await.unwrap();
    // The id is taken: EEXIST, with the kernel's extended ACK.
    let e = ids.set(b.name.as_str(), 3).await.unwrap_err();
    assert!(e.is_exists(), "{e:?}");
    assert!(
        e.to_string().contains("The specified nsid is already used"),
        "{e}"
    );
    assert!(e.to_string().contains("netns set"), "{e}");
    // The peer already has one: EEXIST too, with another message.
    let e = ids.set(a.name.as_str(), 4).await.unwrap_err();
    assert!(e.is_exists(), "{e:?}");
    assert!(e.to_string().contains("already has a nsid"), "{e}");
    assert_eq!(ids.get(b.name.as_str()).await.unwrap(), None);
    assert_eq!(ip_ids(&home).into_keys().collect::<Vec<_>>(), vec![3]);

    // A target that is no namespace fails before anything is sent.
    let e = ids.set("no-such-netns-here", 9).await.unwrap_err();
    assert!(e.to_string().contains("no-such-netns-here"), "{e}");
    let e = ids.get(NetnsTarget::Pid(u32::MAX)).await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
}
