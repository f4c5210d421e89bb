//! Any bytes as a Spark ALSModel factor part file: refused with a coded error, or imported
//! into a model that answers every query finitely; never a panic or a huge allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = alsrec_core::interop::exercise_spark_part(data) {
        panic!("{violation}");
    }
});
