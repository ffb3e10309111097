//! Tests needing kernel features the host may lack. `scripts/test.sh` runs
//! this binary on the host (where such tests skip with a printed reason) and
//! again inside a VM booted with a distribution kernel, where a missing
//! feature fails the test (TOKIO_NETLINK_VM_LANE=1).

#[path = "../common/mod.rs"]
mod common;

mod diag;
mod link_change;
mod links;
mod netkit;
mod routes;
mod stats;
mod xfrm;
