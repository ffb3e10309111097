//! ethtool's legacy offload flags (`rx`, `tx`, `sg`, `tso`, …): each names
//! a group of netdev features by a pattern, as `ethtool -k` groups them
//! and `ethtool -K` accepts them.

/// One legacy flag: its short name (`ethtool -K DEV tso on`), its long
/// name (`ethtool -k`'s `tcp-segmentation-offload`) and the pattern of the
/// kernel feature names it covers (at most one `*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyFlag {
    /// Short name, e.g. `"tso"`.
    pub short: &'static str,
    /// Long name, e.g. `"tcp-segmentation-offload"`.
    pub long: &'static str,
    /// Pattern of feature names, e.g. `"tx-tcp*-segmentation"`.
    pub pattern: &'static str,
}

macro_rules! flags {
    ($(($s:literal, $l:literal, $p:literal)),* $(,)?) => {
        &[$(LegacyFlag { short: $s, long: $l, pattern: $p }),*]
    };
}

/// The legacy flags in `ethtool -k`'s order. UFO is left out: no kernel
/// with the netlink interface has it, and `ethtool -k` skips it too.
pub const LEGACY_FLAGS: &[LegacyFlag] = flags![
    ("rx", "rx-checksumming", "rx-checksum"),
    ("tx", "tx-checksumming", "tx-checksum-*"),
    ("sg", "scatter-gather", "tx-scatter-gather*"),
    ("tso", "tcp-segmentation-offload", "tx-tcp*-segmentation"),
    (
        "gso",
        "generic-segmentation-offload",
        "tx-generic-segmentation"
    ),
    ("gro", "generic-receive-offload", "rx-gro"),
    ("lro", "large-receive-offload", "rx-lro"),
    ("rxvlan", "rx-vlan-offload", "rx-vlan-hw-parse"),
    ("txvlan", "tx-vlan-offload", "tx-vlan-hw-insert"),
    ("ntuple", "ntuple-filters", "rx-ntuple-filter"),
    ("rxhash", "receive-hashing", "rx-hashing"),
];

impl LegacyFlag {
    /// Whether the feature `name` belongs to this flag. A `*` stands for
    /// any run of characters, the empty one included.
    ///
    /// ```
    /// use tokio_netlink::genl::ethtool::LEGACY_FLAGS;
    /// let tso = LEGACY_FLAGS.iter().find(|f| f.short == "tso").unwrap();
    /// assert!(tso.matches("tx-tcp6-segmentation") && tso.matches("tx-tcp-segmentation"));
    /// assert!(!tso.matches("tx-udp-segmentation"));
    /// ```
    pub fn matches(&self, name: &str) -> bool {
        match self.pattern.split_once('*') {
            Some((pre, post)) => {
                name.len() >= pre.len() + post.len()
                    && name.starts_with(pre)
                    && name.ends_with(post)
            }
            None => name == self.pattern,
        }
    }

    /// The legacy flag whose short or long name is `word`.
    pub fn find(word: &str) -> Option<&'static LegacyFlag> {
        LEGACY_FLAGS
            .iter()
            .find(|f| f.short == word || f.long == word)
    }

    /// The first legacy flag covering feature `name` (`ethtool -k` shows
    /// a feature under the first that matches).
    pub fn of_feature(name: &str) -> Option<&'static LegacyFlag> {
        LEGACY_FLAGS.iter().find(|f| f.matches(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_ethtool_matches() {
        let tx = LegacyFlag::find("tx").unwrap();
        assert!(tx.matches("tx-checksum-ipv4") && tx.matches("tx-checksum-"));
        assert!(!tx.matches("tx-checksum") && !tx.matches("rx-checksum"));
        let sg = LegacyFlag::find("scatter-gather").unwrap();
        assert!(sg.matches("tx-scatter-gather") && sg.matches("tx-scatter-gather-fraglist"));
        assert_eq!(
            LegacyFlag::of_feature("rx-gro").map(|f| f.short),
            Some("gro")
        );
        assert_eq!(LegacyFlag::of_feature("rx-gro-list"), None);
        assert_eq!(LegacyFlag::find("ufo"), None);
    }
}
