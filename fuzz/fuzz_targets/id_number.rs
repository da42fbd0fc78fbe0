#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    shouwang_fuzzing::count_caught_panics();
    shouwang_fuzzing::id_number(data)
});
