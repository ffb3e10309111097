//! The assembler: a [`Filter`] to INET_DIAG_REQ_BYTECODE.

use super::*;

// ------------------------------------------------------------ assembler

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Label(usize);

enum Item {
    /// An operation whose bytes 2..4 (`no`) are patched to reach the label.
    Op(Vec<u8>, Label),
    Place(Label),
}

#[derive(Default)]
pub(super) struct Asm {
    items: Vec<Item>,
    labels: usize,
    /// Bytes of the operations so far.
    len: usize,
}

/// The longest program the kernel can take: the reject target, 4 bytes
/// past the end, must fit an operation's 16-bit `no` offset, and the
/// INET_DIAG_REQ_BYTECODE attribute (4-byte header + program) its 16-bit
/// length; operations are multiples of 4 bytes. 65,535 - 4, rounded down
/// to a multiple of 4.
pub(super) const MAX_PROGRAM: usize = (u16::MAX as usize - 4) & !3;

fn too_long() -> Error {
    Error::invalid(
        "filter",
        format!(
            "compiles to more than {MAX_PROGRAM} bytes, the longest program the kernel's \
             16-bit jump offsets and attribute length can hold"
        ),
    )
}

impl Asm {
    pub(super) fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }

    fn place(&mut self, l: Label) {
        self.items.push(Item::Place(l));
    }

    fn op(&mut self, code: u8, args: &[u8], no: Label) {
        // The longest operation (an IPv6 hostcond) is 28 bytes: `yes`, its
        // own length, always fits its u8.
        let mut b = vec![code, (4 + args.len()) as u8, 0, 0];
        b.extend_from_slice(args);
        self.len += b.len();
        self.items.push(Item::Op(b, no));
    }

    fn jump(&mut self, to: Label) {
        self.op(BC_JMP, &[], to);
    }

    /// Code that falls through when `f` holds and jumps to `fail`
    /// otherwise. A work list, not recursion: `f` may be arbitrarily deep.
    /// Stops as soon as the program outgrows [`MAX_PROGRAM`].
    pub(super) fn emit(&mut self, f: &Filter, fail: Label) -> Result<()> {
        enum Task<'a> {
            Emit(&'a Filter, Label),
            Jump(Label),
            Place(Label),
        }
        let mut tasks = vec![Task::Emit(f, fail)];
        while let Some(t) = tasks.pop() {
            match t {
                Task::Jump(to) => self.jump(to),
                Task::Place(l) => self.place(l),
                Task::Emit(Filter::And(a, b), fail) => {
                    tasks.extend([Task::Emit(b, fail), Task::Emit(a, fail)]);
                }
                Task::Emit(Filter::Or(a, b), fail) => {
                    let try_b = self.label();
                    let done = self.label();
                    tasks.extend([
                        Task::Place(done),
                        Task::Emit(b, fail),
                        Task::Place(try_b),
                        Task::Jump(done),
                        Task::Emit(a, try_b),
                    ]);
                }
                Task::Emit(Filter::Not(a), fail) => {
                    let held_not = self.label();
                    tasks.extend([
                        Task::Place(held_not),
                        Task::Jump(fail),
                        Task::Emit(a, held_not),
                    ]);
                }
                Task::Emit(leaf, fail) => self.leaf(leaf, fail)?,
            }
            if self.len > MAX_PROGRAM {
                return Err(too_long());
            }
        }
        Ok(())
    }

    fn leaf(&mut self, f: &Filter, fail: Label) -> Result<()> {
        match f {
            Filter::Sport(c, p) => self.port(BC_S_EQ, BC_S_GE, BC_S_LE, *c, *p, fail),
            Filter::Dport(c, p) => self.port(BC_D_EQ, BC_D_GE, BC_D_LE, *c, *p, fail),
            Filter::Src(n, p) => self.host(BC_S_COND, n, *p, fail),
            Filter::Dst(n, p) => self.host(BC_D_COND, n, *p, fail),
            Filter::Dev(LinkId::Index(i)) => self.op(BC_DEV_COND, &i.to_ne_bytes(), fail),
            Filter::Mark { value, mask } => {
                let mut arg = value.to_ne_bytes().to_vec();
                arg.extend_from_slice(&mask.to_ne_bytes());
                self.op(BC_MARK_COND, &arg, fail);
            }
            Filter::Cgroup(Cgroup::Id(id)) => self.op(BC_CGROUP_COND, &id.to_ne_bytes(), fail),
            // Filter::compile resolves names and paths first.
            Filter::Dev(LinkId::Name(n)) => {
                return Err(Error::invalid(
                    "dev",
                    format!("device {n:?} is not resolved"),
                ));
            }
            Filter::Cgroup(Cgroup::Path(p)) => {
                return Err(Error::invalid("cgroup", format!("{p:?} is not resolved")));
            }
            Filter::And(..) | Filter::Or(..) | Filter::Not(_) => {
                unreachable!("Asm::emit expands operators itself")
            }
        }
        Ok(())
    }

    fn port(&mut self, eq: u8, ge: u8, le: u8, c: Cmp, p: u16, fail: Label) {
        // The port travels in the `no` field of a second, inert operation.
        let mut arg = [0u8; 4];
        arg[2..4].copy_from_slice(&p.to_ne_bytes());
        let (code, negate) = match c {
            Cmp::Eq => (eq, false),
            Cmp::Ne => (eq, true),
            Cmp::Ge => (ge, false),
            Cmp::Le => (le, false),
            Cmp::Gt => (le, true),
            Cmp::Lt => (ge, true),
        };
        if negate {
            let held_not = self.label();
            self.op(code, &arg, held_not);
            self.jump(fail);
            self.place(held_not);
        } else {
            self.op(code, &arg, fail);
        }
    }

    fn host(&mut self, code: u8, net: &IpNetwork, port: Option<u16>, fail: Label) {
        // struct inet_diag_hostcond: family, prefix_len, (pad), int port, addr.
        let (family, addr): (u8, Vec<u8>) = match net.ip() {
            IpAddr::V4(a) => (libc::AF_INET as u8, a.octets().to_vec()),
            IpAddr::V6(a) => (libc::AF_INET6 as u8, a.octets().to_vec()),
        };
        let mut arg = vec![family, net.prefix(), 0, 0];
        arg.extend_from_slice(&port.map_or(-1i32, i32::from).to_ne_bytes());
        arg.extend_from_slice(&addr);
        self.op(code, &arg, fail);
    }

    pub(super) fn finish(self, reject: Label) -> Result<Vec<u8>> {
        let mut pos = vec![usize::MAX; self.labels];
        let mut off = 0;
        for it in &self.items {
            match it {
                Item::Op(b, _) => off += b.len(),
                Item::Place(l) => pos[l.0] = off,
            }
        }
        let end = off;
        if end > MAX_PROGRAM {
            return Err(too_long());
        }
        pos[reject.0] = end + 4;
        let mut out = Vec::with_capacity(end);
        for it in self.items {
            if let Item::Op(mut b, to) = it {
                // Every label lies ahead of its jumps and at most
                // MAX_PROGRAM + 4 bytes from the start: no wrap.
                let no = (pos[to.0] - out.len()) as u16;
                b[2..4].copy_from_slice(&no.to_ne_bytes());
                out.extend_from_slice(&b);
            }
        }
        Ok(out)
    }
}
