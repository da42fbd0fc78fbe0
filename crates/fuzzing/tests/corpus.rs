//! Replays the saved fuzz corpus (`fuzz/corpus/<target>/`: seeds and what libFuzzer kept) through
//! every target in the ordinary test command: any input that once crashed a parser stays a test.

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_saved_input_of_every_target_is_read_or_refused_without_a_panic() {
    let mut total = 0;
    for (name, target) in shouwang_fuzzing::TARGETS {
        let files = corpus(name);
        assert!(!files.is_empty(), "the corpus of {name} is empty");
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name} panicked on {}", file.display());
            total += 1;
        }
    }
    eprintln!("{total} saved inputs replayed");
}

/// The targets do reach the parsers: a seed roster yields rows, a valid number is accepted (a
/// target that returned early on everything would replay any corpus without a failure).
#[test]
fn the_seeds_reach_the_parsers() {
    use shouwang_domain::id_number::IdNumber;
    assert!(IdNumber::parse("522730201603123116").is_ok());
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/roster");
    let places = shouwang_exchange::places::Places::new(
        shouwang_domain::region::Divisions::shipped(),
        &shouwang_domain::region::RegionCode::parse("522730").unwrap(),
    );
    for seed in [
        "roster.csv",
        "roster.xls",
        "roster-gbk.csv",
        "exported.xlsx",
    ] {
        let rows = shouwang_exchange::roster_file::read_rows(
            &dir.join(seed),
            &Default::default(),
            &places,
        )
        .unwrap_or_else(|e| panic!("{seed}: {e:?}"));
        assert!(rows.len() >= 3, "{seed}: {} rows", rows.len());
    }
}
