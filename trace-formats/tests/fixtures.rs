//! Every reader and writer on the fixtures of `testdata/traces/`: detection, the mapping
//! (against `*.expected.txt`), round trips, subsets with edits, and OTLP conversion
//! (against `*.otlp.json`).

mod common;

use common::{assert_expected, fixtures, same_spans, summary, summary_of, traces_dir};
use std::collections::HashMap;
use trace_formats::{
    ADJUSTED_COUNT, AnyValue, Format, KeptSpan, ParentEdit, detect, read, read_path, write,
    write_all,
};

fn expected_path(path: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let stem = path.file_stem().unwrap().to_string_lossy();
    path.with_file_name(format!("{stem}.{suffix}"))
}

#[test]
fn each_fixture_is_detected_and_read_as_expected() {
    for (path, format) in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(detect(&bytes), Some(format), "{}", path.display());
        let doc = read_path(&path).unwrap();
        assert_eq!(doc.format, format);
        assert!(!doc.spans.is_empty());
        assert_expected(&expected_path(&path, "expected.txt"), &summary(&doc));
    }
}

#[test]
fn each_fixture_round_trips_through_its_writer() {
    for (path, format) in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        let doc = read(&bytes, "in").unwrap();
        let mut out = Vec::new();
        write_all(&doc, &mut out).unwrap();
        let again = read(&out, "out").unwrap();
        assert_eq!(again.format, format, "{}", path.display());
        assert!(
            same_spans(&doc.spans, &again.spans),
            "{}: spans differ after a round trip:\n{}\nvs\n{}",
            path.display(),
            summary(&doc),
            summary(&again)
        );
        if format.is_csv() {
            assert_eq!(
                out,
                bytes,
                "{}: CSV output must be the input, byte for byte",
                path.display()
            );
        }
    }
}

#[test]
fn csv_subsets_copy_rows_and_change_only_the_parent_column() {
    for name in ["skywalking.csv", "research.csv"] {
        let path = traces_dir().join(name);
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let doc = read(&bytes, name).unwrap();
        let root_text = if name == "research.csv" { "root" } else { "-1" };
        // Keep span 0, 2 reparented to 0 (given out of order), 4 made a root.
        let kept = [
            KeptSpan {
                index: 4,
                new_parent: Some(ParentEdit::Root),
                adjusted_count: Some(3.0),
            },
            KeptSpan::unchanged(0),
            KeptSpan {
                index: 2,
                new_parent: Some(ParentEdit::Span(0)),
                adjusted_count: None,
            },
        ];
        let mut out = Vec::new();
        write(&doc, &kept, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let again = read(out.as_bytes(), "out").unwrap();
        assert_eq!(again.spans.len(), 3);
        assert_eq!(again.spans[0], doc.spans[0]);
        assert_eq!(
            again.spans[1].parent_span_id, doc.spans[0].span_id,
            "{name}"
        );
        assert!(again.spans[2].parent_span_id.is_empty(), "{name}");
        // Apart from the parent column, rows are the input's rows.
        let header_end = text.find('\n').unwrap() + 1;
        assert!(out.starts_with(&text[..header_end]));
        let span_2_row = text
            .lines()
            .find(|line| line.contains(&*String::from_utf8_lossy(&doc.spans[2].span_id)))
            .unwrap();
        let old_parent = String::from_utf8_lossy(&doc.spans[2].parent_span_id).into_owned();
        let new_parent = String::from_utf8_lossy(&doc.spans[0].span_id).into_owned();
        assert!(out.contains(&span_2_row.replacen(
            &format!(",{old_parent},"),
            &format!(",{new_parent},"),
            1
        )));
        assert!(out.contains(&format!(",{root_text},")));
        assert!(
            !out.contains(ADJUSTED_COUNT),
            "CSV cannot carry adjusted counts"
        );
    }
}

#[test]
fn json_subsets_apply_parent_edits_and_adjusted_counts() {
    for name in ["otlp.json", "jaeger.json", "zipkin.json"] {
        let doc = read_path(&traces_dir().join(name)).unwrap();
        let kept = [
            KeptSpan::unchanged(0),
            KeptSpan {
                index: 2,
                new_parent: Some(ParentEdit::Span(0)),
                adjusted_count: Some(4.0),
            },
            KeptSpan {
                index: 1,
                new_parent: Some(ParentEdit::Root),
                adjusted_count: None,
            },
        ];
        let mut out = Vec::new();
        write(&doc, &kept, &mut out).unwrap();
        let again = read(&out, "out").unwrap();
        assert_eq!(again.spans.len(), 3, "{name}");
        let by_id: HashMap<&[u8], &trace_formats::Span> = again
            .spans
            .iter()
            .map(|s| (s.span_id.as_slice(), s))
            .collect();
        let first = by_id[doc.spans[0].span_id.as_slice()];
        let second = by_id[doc.spans[1].span_id.as_slice()];
        let third = by_id[doc.spans[2].span_id.as_slice()];
        assert!(
            same_spans(std::slice::from_ref(first), &doc.spans[..1]),
            "{name}"
        );
        assert!(second.parent_span_id.is_empty(), "{name}");
        assert_eq!(third.parent_span_id, doc.spans[0].span_id, "{name}");
        let count = third
            .attributes
            .iter()
            .find(|kv| kv.key == ADJUSTED_COUNT)
            .map(|kv| &kv.value);
        // Zipkin tags are strings; the other formats keep the double.
        if name.starts_with("zipkin") {
            assert_eq!(count, Some(&AnyValue::String("4.0".into())));
        } else {
            assert_eq!(count, Some(&AnyValue::Double(4.0)), "{name}");
        }
        assert!(!second.attributes.iter().any(|kv| kv.key == ADJUSTED_COUNT));
    }
}

#[test]
fn write_rejects_bad_indices() {
    let doc = read_path(&traces_dir().join("research.csv")).unwrap();
    let mut out = Vec::new();
    let err = write(&doc, &[KeptSpan::unchanged(99)], &mut out).unwrap_err();
    assert!(err.to_string().contains("99"), "{err}");
    let err = write(
        &doc,
        &[KeptSpan::unchanged(1), KeptSpan::unchanged(1)],
        &mut out,
    )
    .unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
    let parent_out_of_range = KeptSpan {
        index: 0,
        new_parent: Some(ParentEdit::Span(50)),
        adjusted_count: None,
    };
    assert!(write(&doc, &[parent_out_of_range], &mut out).is_err());
}

#[test]
fn conversion_to_otlp_gives_valid_ids_and_keeps_parents() {
    for (path, format) in fixtures() {
        let doc = read_path(&path).unwrap();
        let converted = doc.otlp_spans();
        let mut new_id_of: HashMap<&[u8], &[u8]> = HashMap::new();
        for (old, new) in doc.spans.iter().zip(&converted) {
            assert_eq!(new.trace_id.len(), 16, "{}", path.display());
            assert_eq!(new.span_id.len(), 8, "{}", path.display());
            assert!(new.trace_id.iter().any(|&b| b != 0) && new.span_id.iter().any(|&b| b != 0));
            assert!(new.parent_span_id.is_empty() || new.parent_span_id.len() == 8);
            assert_eq!(old.parent_span_id.is_empty(), new.parent_span_id.is_empty());
            for link in &new.links {
                assert_eq!((link.trace_id.len(), link.span_id.len()), (16, 8));
            }
            new_id_of.insert(&old.span_id, &new.span_id);
        }
        for (old, new) in doc.spans.iter().zip(&converted) {
            if let Some(parent) = new_id_of.get(old.parent_span_id.as_slice()) {
                assert_eq!(
                    new.parent_span_id.as_slice(),
                    *parent,
                    "{}: parent lost",
                    path.display()
                );
            }
        }
        if format.has_textual_ids() {
            // Hashed ids keep their text.
            for (old, new) in doc.spans.iter().zip(&converted) {
                if old.span_id.len() != 16 {
                    let original = new
                        .attributes
                        .iter()
                        .find(|kv| kv.key == trace_formats::ids::ORIGINAL_SPAN_ID)
                        .map(|kv| kv.value.clone());
                    assert_eq!(
                        original,
                        Some(AnyValue::String(
                            String::from_utf8(old.span_id.clone()).unwrap()
                        ))
                    );
                }
            }
        }
        let mut out = Vec::new();
        trace_formats::write_otlp_json(&converted, &mut out).unwrap();
        assert_expected(
            &expected_path(&path, "otlp.json"),
            &String::from_utf8(out.clone()).unwrap(),
        );
        let back = read(&out, "converted").unwrap();
        assert_eq!(back.format, Format::OtlpJson);
        // The writer groups spans by resource and scope, so compare in id order.
        let sorted = |spans: &[trace_formats::Span]| {
            let mut spans = spans.to_vec();
            spans.sort_by(|a, b| (&a.trace_id, &a.span_id).cmp(&(&b.trace_id, &b.span_id)));
            spans
        };
        assert_eq!(
            summary_of(&sorted(&back.spans), false),
            summary_of(&sorted(&converted), false),
            "{}",
            path.display()
        );
    }
}

/// Names that are not UTF-8 keep a lossy text for matching and their bytes in an
/// attribute, so OTLP/JSON written from the spans holds everything the row had.
#[test]
fn names_that_are_not_utf8_keep_their_bytes() {
    use trace_formats::{AnyValue, ORIGINAL_NAME, ORIGINAL_SERVICE_NAME};
    let mut csv = trace_formats::SKYWALKING_HEADER.as_bytes().to_vec();
    csv.extend_from_slice(b"\n1,2,/caf\xe9,Entry,sv\xffc,s1,t1,pe\xfer,-1,Spring\xc3,False\n");
    let doc = trace_formats::read(&csv, "latin1.csv").unwrap();
    let span = &doc.spans[0];
    assert_eq!(span.name, "/caf\u{fffd}");
    let bytes_of = |attributes: &[trace_formats::KeyValue], key: &str| {
        attributes
            .iter()
            .find(|kv| kv.key == key)
            .map(|kv| kv.value.clone())
    };
    assert_eq!(
        bytes_of(&span.attributes, ORIGINAL_NAME),
        Some(AnyValue::Bytes(b"/caf\xe9".to_vec()))
    );
    assert_eq!(
        bytes_of(&span.attributes, trace_formats::skywalking::PEER),
        Some(AnyValue::Bytes(b"pe\xfer".to_vec()))
    );
    assert_eq!(
        bytes_of(&span.resource.attributes, ORIGINAL_SERVICE_NAME),
        Some(AnyValue::Bytes(b"sv\xffc".to_vec()))
    );
    assert_eq!(
        bytes_of(&span.scope.attributes, ORIGINAL_NAME),
        Some(AnyValue::Bytes(b"Spring\xc3".to_vec()))
    );
    // Through OTLP/JSON and back, the bytes are still there.
    let mut json = Vec::new();
    trace_formats::write_otlp_json(&doc.otlp_spans(), &mut json).unwrap();
    let back = trace_formats::read(&json, "back.json").unwrap();
    assert_eq!(
        bytes_of(&back.spans[0].attributes, ORIGINAL_NAME),
        Some(AnyValue::Bytes(b"/caf\xe9".to_vec()))
    );
    // The CSV writer copies the row's bytes.
    let mut again = Vec::new();
    trace_formats::write_all(&doc, &mut again).unwrap();
    assert_eq!(again, csv);
    // UTF-8 names get no extra attribute.
    let plain = trace_formats::read(
        format!(
            "{}\n1,2,/café,Entry,svc,s1,t1,peer,-1,Spring,False\n",
            trace_formats::SKYWALKING_HEADER
        )
        .as_bytes(),
        "utf8.csv",
    )
    .unwrap();
    assert!(bytes_of(&plain.spans[0].attributes, ORIGINAL_NAME).is_none());
    // The research CSV keeps its operation name's bytes too.
    let mut research = trace_formats::RESEARCH_HEADER.as_bytes().to_vec();
    research.extend_from_slice(b"\nt,s,root,pod-0,op\xe9,1,2,1\n");
    let doc = trace_formats::read(&research, "r.csv").unwrap();
    assert_eq!(
        bytes_of(&doc.spans[0].attributes, ORIGINAL_NAME),
        Some(AnyValue::Bytes(b"op\xe9".to_vec()))
    );
}
