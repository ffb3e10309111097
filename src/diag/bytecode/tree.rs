//! Walking a [`Filter`] without recursion. Its variants are public, so a
//! caller can build a tree of any depth (a 100,000-term `or` chain, a
//! million `not`s); recursing over one would overflow the stack and abort
//! the process. Every traversal here keeps its work on the heap instead:
//! drop, clone, equality, Debug, Display, evaluation and folding.

use super::*;

/// One node of a [`Filter::fold`], its operands already folded.
pub(super) enum Node<'a, T> {
    /// A condition (no operands).
    Leaf(&'a Filter),
    /// `And` of two folded operands.
    And(T, T),
    /// `Or` of two folded operands.
    Or(T, T),
    /// `Not` of one folded operand.
    Not(T),
}

/// A placeholder a child is swapped for when its subtree is detached: a
/// leaf, so dropping it ends there.
const HOLLOW: Filter = Filter::Mark { value: 0, mask: 0 };

impl Filter {
    fn is_compound(&self) -> bool {
        matches!(self, Filter::And(..) | Filter::Or(..) | Filter::Not(_))
    }

    /// Folds the tree bottom-up, operands left to right before their node;
    /// the first error stops the walk.
    pub(super) fn fold<'a, T, E>(
        &'a self,
        mut step: impl FnMut(Node<'a, T>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        enum Task<'a> {
            Enter(&'a Filter),
            And,
            Or,
            Not,
        }
        fn pop<T>(v: &mut Vec<T>) -> T {
            v.pop()
                .expect("a node's operands are folded before the node")
        }
        let mut tasks = vec![Task::Enter(self)];
        let mut done: Vec<T> = Vec::new();
        while let Some(t) = tasks.pop() {
            let node = match t {
                Task::Enter(Filter::And(a, b)) => {
                    tasks.extend([Task::And, Task::Enter(b), Task::Enter(a)]);
                    continue;
                }
                Task::Enter(Filter::Or(a, b)) => {
                    tasks.extend([Task::Or, Task::Enter(b), Task::Enter(a)]);
                    continue;
                }
                Task::Enter(Filter::Not(a)) => {
                    tasks.extend([Task::Not, Task::Enter(a)]);
                    continue;
                }
                Task::Enter(leaf) => Node::Leaf(leaf),
                Task::Not => Node::Not(pop(&mut done)),
                Task::And => {
                    let b = pop(&mut done);
                    Node::And(pop(&mut done), b)
                }
                Task::Or => {
                    let b = pop(&mut done);
                    Node::Or(pop(&mut done), b)
                }
            };
            done.push(step(node)?);
        }
        Ok(pop(&mut done))
    }

    /// Calls `f` on every node, parents before children, left to right.
    pub(super) fn visit<'a>(&'a self, mut f: impl FnMut(&'a Filter)) {
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            f(n);
            match n {
                Filter::And(a, b) | Filter::Or(a, b) => stack.extend([&**b, &**a]),
                Filter::Not(a) => stack.push(a),
                _ => {}
            }
        }
    }

    /// Evaluates with short-circuits, as the recursive definition reads:
    /// one result register and a stack of what to do with it.
    pub(super) fn eval(&self, e: &Entry) -> bool {
        enum Task<'a> {
            Eval(&'a Filter),
            /// The left operand of an `and` held: the result is the right's.
            AndThen(&'a Filter),
            /// The left operand of an `or` failed: the result is the right's.
            OrElse(&'a Filter),
            Negate,
        }
        let mut tasks = vec![Task::Eval(self)];
        let mut held = false;
        while let Some(t) = tasks.pop() {
            match t {
                Task::Eval(Filter::And(a, b)) => tasks.extend([Task::AndThen(b), Task::Eval(a)]),
                Task::Eval(Filter::Or(a, b)) => tasks.extend([Task::OrElse(b), Task::Eval(a)]),
                Task::Eval(Filter::Not(a)) => tasks.extend([Task::Negate, Task::Eval(a)]),
                Task::Eval(leaf) => held = leaf.eval_leaf(e),
                Task::AndThen(b) if held => tasks.push(Task::Eval(b)),
                Task::OrElse(b) if !held => tasks.push(Task::Eval(b)),
                Task::AndThen(_) | Task::OrElse(_) => {}
                Task::Negate => held = !held,
            }
        }
        held
    }

    fn eval_leaf(&self, e: &Entry) -> bool {
        match self {
            Filter::Sport(c, p) => cmp(*c, e.sport, *p),
            Filter::Dport(c, p) => cmp(*c, e.dport, *p),
            Filter::Src(n, p) => host_matches(n, *p, e.src, e.sport),
            Filter::Dst(n, p) => host_matches(n, *p, e.dst, e.dport),
            Filter::Dev(l) => *l == LinkId::Index(e.ifindex),
            Filter::Mark { value, mask } => e.mark & mask == *value,
            Filter::Cgroup(c) => *c == Cgroup::Id(e.cgroup_id),
            Filter::And(..) | Filter::Or(..) | Filter::Not(_) => {
                unreachable!("eval_leaf is called on conditions only")
            }
        }
    }

    /// A copy of a condition (which holds no boxes).
    pub(super) fn clone_leaf(&self) -> Filter {
        match self {
            Filter::Sport(c, p) => Filter::Sport(*c, *p),
            Filter::Dport(c, p) => Filter::Dport(*c, *p),
            Filter::Src(n, p) => Filter::Src(*n, *p),
            Filter::Dst(n, p) => Filter::Dst(*n, *p),
            Filter::Dev(l) => Filter::Dev(l.clone()),
            Filter::Mark { value, mask } => Filter::Mark {
                value: *value,
                mask: *mask,
            },
            Filter::Cgroup(c) => Filter::Cgroup(c.clone()),
            Filter::And(..) | Filter::Or(..) | Filter::Not(_) => {
                unreachable!("clone_leaf is called on conditions only")
            }
        }
    }

    /// Writes the tree with `syntax` for its operators and `leaf` for its
    /// conditions.
    fn write_tree(
        &self,
        f: &mut fmt::Formatter<'_>,
        syntax: &Syntax,
        leaf: fn(&Filter, &mut fmt::Formatter<'_>) -> fmt::Result,
    ) -> fmt::Result {
        enum Piece<'a> {
            Node(&'a Filter),
            Text(&'static str),
        }
        let mut pieces = vec![Piece::Node(self)];
        while let Some(p) = pieces.pop() {
            match p {
                Piece::Text(t) => f.write_str(t)?,
                Piece::Node(Filter::And(a, b)) | Piece::Node(Filter::Or(a, b)) => {
                    let [open, mid, close] = match p {
                        Piece::Node(Filter::And(..)) => syntax.and,
                        _ => syntax.or,
                    };
                    f.write_str(open)?;
                    let (a, b) = (Piece::Node(a), Piece::Node(b));
                    pieces.extend([Piece::Text(close), b, Piece::Text(mid), a]);
                }
                Piece::Node(Filter::Not(a)) => {
                    let [open, close] = syntax.not;
                    f.write_str(open)?;
                    pieces.extend([Piece::Text(close), Piece::Node(a)]);
                }
                Piece::Node(n) => leaf(n, f)?,
            }
        }
        Ok(())
    }
}

/// How [`Filter::write_tree`] spells each operator: opening, between the
/// operands (binary ones), closing.
struct Syntax {
    and: [&'static str; 3],
    or: [&'static str; 3],
    not: [&'static str; 2],
}

impl Drop for Filter {
    /// Detaches compound children into a stack and drops them one by one,
    /// so dropping never recurses more than one level.
    fn drop(&mut self) {
        fn detach(f: &mut Filter, out: &mut Vec<Filter>) {
            let mut take = |b: &mut Box<Filter>| {
                if b.is_compound() {
                    out.push(std::mem::replace(&mut **b, HOLLOW));
                }
            };
            match f {
                Filter::And(a, b) | Filter::Or(a, b) => {
                    take(a);
                    take(b);
                }
                Filter::Not(a) => take(a),
                _ => {}
            }
        }
        let mut stack = Vec::new();
        detach(self, &mut stack);
        while let Some(mut f) = stack.pop() {
            detach(&mut f, &mut stack);
        }
    }
}

impl Clone for Filter {
    fn clone(&self) -> Filter {
        let built: std::result::Result<Filter, std::convert::Infallible> =
            self.fold(|n| Ok(build(n, Filter::clone_leaf)));
        match built {
            Ok(f) => f,
            Err(never) => match never {},
        }
    }
}

/// A folded node as a [`Filter`], with `leaf` making its conditions.
pub(super) fn build(n: Node<'_, Filter>, leaf: impl FnOnce(&Filter) -> Filter) -> Filter {
    match n {
        Node::Leaf(f) => leaf(f),
        Node::And(a, b) => Filter::And(Box::new(a), Box::new(b)),
        Node::Or(a, b) => Filter::Or(Box::new(a), Box::new(b)),
        Node::Not(a) => Filter::Not(Box::new(a)),
    }
}

impl PartialEq for Filter {
    fn eq(&self, other: &Filter) -> bool {
        let mut pairs = vec![(self, other)];
        while let Some(pair) = pairs.pop() {
            let same = match pair {
                (Filter::And(a, b), Filter::And(c, d)) | (Filter::Or(a, b), Filter::Or(c, d)) => {
                    pairs.extend([(&**b, &**d), (&**a, &**c)]);
                    true
                }
                (Filter::Not(a), Filter::Not(b)) => {
                    pairs.push((a, b));
                    true
                }
                (Filter::Sport(c, p), Filter::Sport(d, q))
                | (Filter::Dport(c, p), Filter::Dport(d, q)) => c == d && p == q,
                (Filter::Src(n, p), Filter::Src(m, q)) | (Filter::Dst(n, p), Filter::Dst(m, q)) => {
                    n == m && p == q
                }
                (Filter::Dev(a), Filter::Dev(b)) => a == b,
                (Filter::Mark { value, mask }, Filter::Mark { value: v, mask: m }) => {
                    value == v && mask == m
                }
                (Filter::Cgroup(a), Filter::Cgroup(b)) => a == b,
                _ => false,
            };
            if !same {
                return false;
            }
        }
        true
    }
}

impl Eq for Filter {}

impl fmt::Debug for Filter {
    /// As `#[derive(Debug)]` writes it, always on one line (`{:#?}` too:
    /// indenting a deep tree would write depth² spaces).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DEBUG: Syntax = Syntax {
            and: ["And(", ", ", ")"],
            or: ["Or(", ", ", ")"],
            not: ["Not(", ")"],
        };
        self.write_tree(f, &DEBUG, |n, f| match n {
            Filter::Sport(c, p) => write!(f, "Sport({c:?}, {p:?})"),
            Filter::Dport(c, p) => write!(f, "Dport({c:?}, {p:?})"),
            Filter::Src(n, p) => write!(f, "Src({n:?}, {p:?})"),
            Filter::Dst(n, p) => write!(f, "Dst({n:?}, {p:?})"),
            Filter::Dev(l) => write!(f, "Dev({l:?})"),
            Filter::Mark { value, mask } => {
                write!(f, "Mark {{ value: {value:?}, mask: {mask:?} }}")
            }
            Filter::Cgroup(c) => write!(f, "Cgroup({c:?})"),
            Filter::And(..) | Filter::Or(..) | Filter::Not(_) => Ok(()),
        })
    }
}

impl fmt::Display for Filter {
    /// `ss`'s syntax, which [`Filter::from_str`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SS: Syntax = Syntax {
            and: ["(", " and ", ")"],
            or: ["(", " or ", ")"],
            not: ["not ", ""],
        };
        self.write_tree(f, &SS, display_leaf)
    }
}

fn display_leaf(n: &Filter, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let host = |f: &mut fmt::Formatter<'_>, n: &IpNetwork, p: &Option<u16>| {
        match n {
            IpNetwork::V6(_) => write!(f, "[{}]/{}", n.ip(), n.prefix())?,
            IpNetwork::V4(_) => write!(f, "{}/{}", n.ip(), n.prefix())?,
        }
        match p {
            Some(p) => write!(f, ":{p}"),
            None => Ok(()),
        }
    };
    match n {
        Filter::Sport(c, p) => write!(f, "sport {c} :{p}"),
        Filter::Dport(c, p) => write!(f, "dport {c} :{p}"),
        Filter::Src(n, p) => {
            f.write_str("src ")?;
            host(f, n, p)
        }
        Filter::Dst(n, p) => {
            f.write_str("dst ")?;
            host(f, n, p)
        }
        Filter::Dev(LinkId::Index(i)) => write!(f, "dev = {i}"),
        Filter::Dev(LinkId::Name(n)) => write!(f, "dev = {n}"),
        Filter::Mark {
            value,
            mask: u32::MAX,
        } => write!(f, "fwmark = {value:#x}"),
        Filter::Mark { value, mask } => write!(f, "fwmark = {value:#x}/{mask:#x}"),
        Filter::Cgroup(Cgroup::Path(p)) => write!(f, "cgroup = {p}"),
        Filter::Cgroup(Cgroup::Id(id)) => write!(f, "cgroup = id:{id}"),
        Filter::And(..) | Filter::Or(..) | Filter::Not(_) => Ok(()),
    }
}
