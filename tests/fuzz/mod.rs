//! The pieces of the decoder mutation test (tests/fuzz_decoders.rs).

pub mod handmade;
pub mod probes;
pub mod seeds;

use std::cell::Cell;

thread_local! {
    /// Where the last caught panic happened (set by the quiet hook).
    pub static LAST_PANIC: Cell<Option<String>> = const { Cell::new(None) };
    /// True while this thread runs probes: its panics are caught and
    /// recorded, not printed.
    pub static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Installs a panic hook that records, instead of printing, the panics of
/// threads running probes; other threads' panics print as usual.
pub fn quiet_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if QUIET.with(Cell::get) {
            let at = info.location().map(|l| l.to_string()).unwrap_or_default();
            LAST_PANIC.with(|l| l.set(Some(at)));
        } else {
            default(info);
        }
    }));
}
