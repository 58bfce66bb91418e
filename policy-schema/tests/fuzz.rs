//! The loader never panics, whatever it is given.

use proptest::prelude::*;

const EXAMPLE: &str = include_str!("../../testdata/policies/example.json");

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = policy_schema::from_json_slice(&bytes);
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,256}") {
        let _ = policy_schema::from_json_str(&text);
    }

    /// Mutations of a valid policy reach the semantic checks and the line locator.
    #[test]
    fn mutated_example_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..4u8, any::<u8>()), 1..6)
    ) {
        let mut bytes = EXAMPLE.as_bytes().to_vec();
        for (index, kind, byte) in edits {
            let at = index.index(bytes.len().max(1)).min(bytes.len());
            match kind {
                0 if at < bytes.len() => { bytes.remove(at); }
                1 => bytes.insert(at, byte),
                2 if at < bytes.len() => bytes[at] = byte,
                _ => {
                    let digit = b"0123456789-.e"[usize::from(byte) % 13];
                    bytes.insert(at, digit);
                }
            }
        }
        if let Err(e) = policy_schema::from_json_slice(&bytes) {
            prop_assert!(e.line().is_some());
        }
    }
}
