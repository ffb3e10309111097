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
        let mut b = vec![code, (4 + args.len()) as u8, 0, 0];
        b.extend_from_slice(args);
        self.items.push(Item::Op(b, no));
    }

    fn jump(&mut self, to: Label) {
        self.op(BC_JMP, &[], to);
    }

    /// Code that falls through when `f` holds and jumps to `fail` otherwise.
    pub(super) fn emit(&mut self, f: &Filter, fail: Label) {
        match f {
            Filter::Sport(c, p) => self.port(BC_S_EQ, BC_S_GE, BC_S_LE, *c, *p, fail),
            Filter::Dport(c, p) => self.port(BC_D_EQ, BC_D_GE, BC_D_LE, *c, *p, fail),
            Filter::Src(n, p) => self.host(BC_S_COND, n, *p, fail),
            Filter::Dst(n, p) => self.host(BC_D_COND, n, *p, fail),
            // Callers resolve names and paths first (Filter::resolve).
            Filter::Dev(LinkId::Index(i)) => self.op(BC_DEV_COND, &i.to_ne_bytes(), fail),
            Filter::Dev(LinkId::Name(_)) | Filter::Cgroup(Cgroup::Path(_)) => {
                unreachable!("compiled before resolving")
            }
            Filter::Mark { value, mask } => {
                let mut arg = value.to_ne_bytes().to_vec();
                arg.extend_from_slice(&mask.to_ne_bytes());
                self.op(BC_MARK_COND, &arg, fail);
            }
            Filter::Cgroup(Cgroup::Id(id)) => self.op(BC_CGROUP_COND, &id.to_ne_bytes(), fail),
            Filter::And(a, b) => {
                self.emit(a, fail);
                self.emit(b, fail);
            }
            Filter::Or(a, b) => {
                let try_b = self.label();
                let done = self.label();
                self.emit(a, try_b);
                self.jump(done);
                self.place(try_b);
                self.emit(b, fail);
                self.place(done);
            }
            Filter::Not(a) => {
                let held_not = self.label();
                self.emit(a, held_not);
                self.jump(fail);
                self.place(held_not);
            }
        }
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
        if end + 4 > u16::MAX as usize {
            return Err(Error::invalid(
                "filter",
                format!("compiles to {end} bytes, more than the kernel's 16-bit jumps reach"),
            ));
        }
        pos[reject.0] = end + 4;
        let mut out = Vec::with_capacity(end);
        for it in self.items {
            if let Item::Op(mut b, to) = it {
                let no = (pos[to.0] - out.len()) as u16;
                b[2..4].copy_from_slice(&no.to_ne_bytes());
                out.extend_from_slice(&b);
            }
        }
        Ok(out)
    }
}

// ------------------------------------------------------------ parser
