//! Replays the fuzz target's committed corpus (`fuzz/corpus/decode`)
//! through the same function the fuzzer runs, on the stable toolchain.

use std::path::PathBuf;

#[test]
fn the_fuzz_corpus_decodes_without_panicking() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the corpus is committed") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        gaplic_router::fuzzing::decode_all(&data);
        count += 1;
    }
    assert!(count >= 10, "only {count} inputs in {}", dir.display());
}
