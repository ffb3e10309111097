//! `bpf`: the BPF classifier (`cls_bpf`), running an eBPF program given by
//! fd or classic BPF bytecode, encoded as `tc`'s `f_bpf.c` encodes it.

use std::os::fd::RawFd;

use super::super::action::{Action, decode_actions, encode_actions};
use super::super::handle::Handle;
use super::super::wire::{Rd, Writer, tca};
use crate::conn::attrs::{nested, str_of};
use crate::error::{Error, Result};

const ACT: u16 = 1;
const CLASSID: u16 = 3;
const OPS_LEN: u16 = 4;
const OPS: u16 = 5;
const FD: u16 = 6;
const NAME: u16 = 7;
const FLAGS: u16 = 8;
const FLAGS_GEN: u16 = 9;
const TAG: u16 = 10;
const ID: u16 = 11;

/// `TCA_BPF_FLAG_ACT_DIRECT`.
const ACT_DIRECT: u32 = 1;

/// One classic BPF instruction (`struct sock_filter`, `tc`'s
/// `bytecode "CODE JT JF K,…"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SockFilter {
    /// The opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// The constant.
    pub k: u32,
}

/// The program a bpf filter runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BpfProgram {
    /// An eBPF program of type `BPF_PROG_TYPE_SCHED_CLS`, by an fd of this
    /// process (the kernel takes its own reference: the fd may be closed
    /// once the request is acknowledged). `tc`'s `object-pinned PATH` sends
    /// the fd of the pinned program the same way.
    Fd(RawFd),
    /// Classic BPF (`bytecode …`).
    Classic(Vec<SockFilter>),
    /// An attached eBPF program as the kernel reports it: read back only
    /// (the kernel never reports an fd, so it cannot be sent).
    Attached {
        /// The program's id (`bpftool prog show id N`).
        id: u32,
        /// The program's tag: a hash of its instructions.
        tag: Option<[u8; 8]>,
    },
}

/// `bpf {fd FD | bytecode …} [name NAME] [da] [classid C] [skip_hw|skip_sw]
/// [action …]`.
///
/// ```
/// use tokio_netlink::route::tc::Bpf;
/// # let prog_fd = 3;
/// // bpf object-pinned /sys/fs/bpf/prog da, with the program's fd
/// let f = Bpf::fd(prog_fd).name("prog:[*fsobj]").direct_action();
/// assert!(f.direct_action);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bpf {
    /// The program.
    pub program: BpfProgram,
    /// `TCA_BPF_NAME`: a label shown by `tc filter show` (`tc` sends
    /// `FILE:[SECTION]`).
    pub name: Option<String>,
    /// `da` / `direct-action`: the program's return value is the action.
    pub direct_action: bool,
    /// `classid C`.
    pub classid: Option<Handle>,
    /// `skip_hw` / `skip_sw` (`TCA_CLS_FLAGS_*`); the kernel reports
    /// `not_in_hw` (8) on a software filter.
    pub flags: u32,
    /// `action …`, in order.
    pub actions: Vec<Action>,
}

impl Bpf {
    /// A filter running the eBPF program `fd`.
    pub fn fd(fd: RawFd) -> Bpf {
        Bpf::with(BpfProgram::Fd(fd))
    }

    /// A filter running classic BPF `ops`.
    pub fn classic(ops: Vec<SockFilter>) -> Bpf {
        Bpf::with(BpfProgram::Classic(ops))
    }

    fn with(program: BpfProgram) -> Bpf {
        Bpf {
            program,
            name: None,
            direct_action: false,
            classid: None,
            flags: 0,
            actions: vec![],
        }
    }

    /// `TCA_BPF_NAME`.
    pub fn name(mut self, name: impl Into<String>) -> Bpf {
        self.name = Some(name.into());
        self
    }

    /// `da`.
    pub fn direct_action(mut self) -> Bpf {
        self.direct_action = true;
        self
    }

    /// `classid C`.
    pub fn classid(mut self, classid: Handle) -> Bpf {
        self.classid = Some(classid);
        self
    }

    /// `action …`.
    pub fn action(mut self, action: impl Into<Action>) -> Bpf {
        self.actions.push(action.into());
        self
    }

    /// The attached program's id, when read back.
    pub fn id(&self) -> Option<u32> {
        match self.program {
            BpfProgram::Attached { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The attached program's tag, when read back.
    pub fn tag(&self) -> Option<[u8; 8]> {
        match self.program {
            BpfProgram::Attached { tag, .. } => tag,
            _ => None,
        }
    }

    /// In `tc`'s order: classid and actions, then the program (`tc` loads
    /// it after parsing the rest), then the flags.
    pub(crate) fn encode(&self, w: &mut Writer) -> Result<()> {
        let nest = w.begin(tca::OPTIONS);
        if let Some(c) = self.classid {
            w.u32("classid", CLASSID, c.raw())?;
        }
        encode_actions(w, ACT, &self.actions)?;
        match &self.program {
            BpfProgram::Fd(fd) => {
                let fd = u32::try_from(*fd)
                    .map_err(|_| Error::invalid("fd", format!("{fd} is not a file descriptor")))?;
                w.u32("fd", FD, fd)?;
            }
            BpfProgram::Classic(ops) => {
                // The kernel's BPF_MAXINSNS for classic BPF.
                if ops.is_empty() || ops.len() > 4096 {
                    return Err(Error::invalid(
                        "bytecode",
                        format!("{} instructions (1 to 4096 are allowed)", ops.len()),
                    ));
                }
                w.attr("bytecode", OPS_LEN, &(ops.len() as u16).to_ne_bytes())?;
                let mut v = Vec::with_capacity(8 * ops.len());
                for o in ops {
                    v.extend_from_slice(&o.code.to_ne_bytes());
                    v.extend_from_slice(&[o.jt, o.jf]);
                    v.extend_from_slice(&o.k.to_ne_bytes());
                }
                w.attr("bytecode", OPS, &v)?;
            }
            BpfProgram::Attached { id, .. } => {
                return Err(Error::invalid(
                    "bpf",
                    format!("program id {id} was read back: give its fd to attach it"),
                ));
            }
        }
        if let Some(n) = &self.name {
            w.string("name", NAME, n)?;
        }
        if self.flags != 0 {
            w.u32("flags", FLAGS_GEN, self.flags)?;
        }
        if self.direct_action {
            w.u32("da", FLAGS, ACT_DIRECT)?;
        }
        w.end("bpf", nest)
    }

    pub(crate) fn decode(options: &[u8]) -> Bpf {
        let mut b = Bpf::with(BpfProgram::Attached { id: 0, tag: None });
        let (mut id, mut tag, mut ops, mut fd) = (None, None, None, None);
        for (ty, v) in nested(options) {
            let r = Rd(v);
            match ty {
                ID => id = Some(r.u32(0)),
                TAG => tag = v.get(..8).and_then(|t| t.try_into().ok()),
                FD => fd = Some(r.i32(0)),
                OPS => {
                    let n = v.len() / 8;
                    ops = Some(
                        (0..n)
                            .map(|i| SockFilter {
                                code: r.u16(8 * i),
                                jt: r.u8(8 * i + 2),
                                jf: r.u8(8 * i + 3),
                                k: r.u32(8 * i + 4),
                            })
                            .collect(),
                    );
                }
                NAME => b.name = str_of(v).map(str::to_owned),
                CLASSID => b.classid = Some(Handle::from_raw(r.u32(0))),
                FLAGS => b.direct_action = r.u32(0) & ACT_DIRECT != 0,
                FLAGS_GEN => b.flags = r.u32(0),
                ACT => b.actions = decode_actions(v),
                _ => {}
            }
        }
        b.program = match (ops, fd, id) {
            (Some(ops), ..) => BpfProgram::Classic(ops),
            // Only a request carries an fd (decoding what was encoded).
            (None, Some(fd), None) => BpfProgram::Fd(fd),
            (None, _, id) => BpfProgram::Attached {
                id: id.unwrap_or(0),
                tag,
            },
        };
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::attrs::nested_get;

    fn round(b: &Bpf) -> Bpf {
        let mut w = Writer::default();
        b.encode(&mut w).unwrap();
        Bpf::decode(nested_get(&w.buf, tca::OPTIONS).unwrap())
    }

    #[test]
    fn bpf_options_decode_into_what_was_encoded() {
        let f = Bpf::fd(7)
            .name("p:[*fsobj]")
            .direct_action()
            .classid(Handle::new(1, 2));
        assert_eq!(round(&f), f);
        let c = Bpf::classic(vec![SockFilter {
            code: 6,
            jt: 0,
            jf: 0,
            k: u32::MAX,
        }]);
        assert_eq!(round(&c), c);
    }

    #[test]
    fn unsendable_bpf_programs_are_refused() {
        let mut w = Writer::default();
        let field = |b: Bpf, w: &mut Writer| match b.encode(w) {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(Bpf::fd(-1), &mut w), "fd");
        assert_eq!(field(Bpf::classic(vec![]), &mut w), "bytecode");
        let attached = Bpf::with(BpfProgram::Attached { id: 4, tag: None });
        assert_eq!(field(attached, &mut w), "bpf");
    }
}
