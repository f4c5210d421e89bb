//! Any bytes: refused with a coded error, or accepted and consistent; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = alsrec_core::robustness::exercise_ratings(data) {
        panic!("{violation}");
    }
});
