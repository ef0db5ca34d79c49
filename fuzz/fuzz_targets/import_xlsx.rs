//! Fuzzes the catalogue's XLSX import.
//! Input and properties: `alliance_node::fuzzing::import_xlsx`,
//! which the test suite also runs over the committed corpus.
//!
//! The import catches panics of the XLSX reader (calamine) and refuses such a file, so
//! those panics are let unwind to it; any other panic aborts as a crash.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;

/// libFuzzer's panic hook aborts at once, before a panic can unwind to a `catch_unwind`;
/// keep that for every panic but the XLSX reader's.
fn let_reader_panics_unwind() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info
                .location()
                .is_some_and(|l| l.file().contains("/calamine-"))
            {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    let_reader_panics_unwind();
    alliance_node::fuzzing::import_xlsx::test_one_input(data);
});
