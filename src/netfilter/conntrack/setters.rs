//! The [`Filter`](super::Filter) setters of the builders that filter
//! (listings, delete-by-filter), delegating to the filter they hold.

/// The [`Filter`] setters on a builder holding one in `self.filter`.
macro_rules! filter_setters {
    () => {
        /// `-f ipv4|ipv6` (default: both, one AF_UNSPEC dump).
        pub fn family(mut self, f: $crate::types::Family) -> Self {
            self.filter = self.filter.family(f);
            self
        }

        /// `-p PROTO`.
        pub fn protocol(mut self, p: $crate::netfilter::conntrack::Proto) -> Self {
            self.filter = self.filter.protocol(p);
            self
        }

        /// `-s ADDR`: the original source, an address or a prefix
        /// (`"10.0.0.0/8"`; prefixes are matched in user space).
        pub fn orig_src(mut self, p: impl $crate::types::IntoPrefix) -> Self {
            self.filter = self.filter.orig_src(p);
            self
        }

        /// `-d ADDR`: the original destination, an address or a prefix.
        pub fn orig_dst(mut self, p: impl $crate::types::IntoPrefix) -> Self {
            self.filter = self.filter.orig_dst(p);
            self
        }

        /// `-r ADDR`: the reply source, an address or a prefix.
        pub fn reply_src(mut self, p: impl $crate::types::IntoPrefix) -> Self {
            self.filter = self.filter.reply_src(p);
            self
        }

        /// `-q ADDR`: the reply destination, an address or a prefix.
        pub fn reply_dst(mut self, p: impl $crate::types::IntoPrefix) -> Self {
            self.filter = self.filter.reply_dst(p);
            self
        }

        /// `--sport N`: the original source port.
        pub fn sport(mut self, p: u16) -> Self {
            self.filter = self.filter.sport(p);
            self
        }

        /// `--dport N`: the original destination port.
        pub fn dport(mut self, p: u16) -> Self {
            self.filter = self.filter.dport(p);
            self
        }

        /// `--reply-port-src N`.
        pub fn reply_sport(mut self, p: u16) -> Self {
            self.filter = self.filter.reply_sport(p);
            self
        }

        /// `--reply-port-dst N`.
        pub fn reply_dport(mut self, p: u16) -> Self {
            self.filter = self.filter.reply_dport(p);
            self
        }

        /// `-m MARK/MASK` (filtered by the kernel).
        pub fn mark(mut self, value: u32, mask: u32) -> Self {
            self.filter = self.filter.mark(value, mask);
            self
        }

        /// `-w ZONE` (checked in user space: the kernel does not filter
        /// dumps by zone).
        pub fn zone(mut self, z: u16) -> Self {
            self.filter = self.filter.zone(z);
            self
        }

        /// `-u STATUS`: every bit of `s` set (filtered by the kernel on 6.x).
        pub fn status(mut self, s: $crate::netfilter::conntrack::Status) -> Self {
            self.filter = self.filter.status(s);
            self
        }

        /// Replaces the whole filter.
        pub fn filter(mut self, f: $crate::netfilter::conntrack::Filter) -> Self {
            self.filter = f;
            self
        }
    };
}
pub(super) use filter_setters;
