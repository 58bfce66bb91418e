//! Version 2 files detect damage: every flipped bit and every cut is an error (or, for
//! no bit at all, the same spans), version 1 files still read, salvage recovers the
//! intact frames, and limits refuse hostile frames before allocating.

use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;
use trace_formats::{AnyValue, KeyValue, Span};
use tracezip::{
    DecodeError, Decoder, DecoderOptions, Encoder, EncoderOptions, FileReader, FileWriter,
    compress, decompress, decompress_each, salvage, spans_identical,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The spans the version 1 fixtures were written from (see tests/data/README.md).
fn fixture_spans() -> Vec<Span> {
    let mut spans = Vec::new();
    for name in ["zipkin.json", "skywalking.csv"] {
        let document =
            trace_formats::read_path(&root().join("../testdata/traces").join(name)).unwrap();
        spans.extend(document.otlp_spans());
    }
    spans
}

fn archive(level: Option<i32>) -> (Vec<Span>, Vec<u8>) {
    let spans = fixture_spans();
    let options = EncoderOptions {
        zstd_level: level,
        ..EncoderOptions::default()
    };
    let file = compress(&spans, options, 4).unwrap();
    (spans, file)
}

/// Offsets of every frame record and of the trailer.
fn frame_boundaries(file: &[u8]) -> Vec<u64> {
    let mut reader = FileReader::new(file, tracezip::MAX_FRAME_BYTES).unwrap();
    let mut boundaries = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        boundaries.push(frame.offset);
    }
    boundaries.push(reader.trailer().unwrap().offset);
    boundaries
}

#[test]
fn version_1_files_still_read() {
    let spans = fixture_spans();
    for name in ["v1-zstd.tz", "v1-plain.tz"] {
        let file = std::fs::read(root().join("tests/data").join(name)).unwrap();
        assert_eq!(file[4], tracezip::FILE_VERSION_1, "{name}");
        let decoded = decompress(&file).unwrap();
        assert!(spans_identical(&decoded, &spans), "{name}");
        // Salvage reads them too, and finds nothing lost.
        let report = salvage(&file, DecoderOptions::default(), |_| {
            Ok::<_, DecodeError>(())
        })
        .unwrap();
        assert!(report.is_complete(), "{name}: {report:?}");
        assert_eq!(report.spans_recovered, spans.len() as u64);
    }
}

#[test]
fn files_are_version_2_with_a_trailer() {
    let (spans, file) = archive(Some(3));
    assert_eq!(file[4], tracezip::FILE_VERSION);
    let mut reader = FileReader::new(file.as_slice(), tracezip::MAX_FRAME_BYTES).unwrap();
    let mut frames = 0;
    while reader.next_frame().unwrap().is_some() {
        frames += 1;
    }
    let trailer = reader.trailer().unwrap();
    assert_eq!(
        (trailer.frames, trailer.spans),
        (frames, spans.len() as u64)
    );
    assert_eq!(frames, spans.len().div_ceil(4) as u64);
}

/// Decoding `file` fails, or gives exactly `spans`.
fn never_different(file: &[u8], spans: &[Span]) -> Result<(), String> {
    match decompress(file) {
        Err(_) => Ok(()),
        Ok(decoded) if spans_identical(&decoded, spans) => Ok(()),
        Ok(decoded) => Err(format!("decoded {} different spans", decoded.len())),
    }
}

#[test]
fn every_single_bit_flip_is_detected() {
    for level in [None, Some(3)] {
        let (spans, file) = archive(level);
        let mut detected = 0;
        for bit in 0..file.len() * 8 {
            let mut damaged = file.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            if let Err(reason) = never_different(&damaged, &spans) {
                panic!("bit {bit} ({level:?}): {reason}");
            }
            detected += usize::from(decompress(&damaged).is_err());
        }
        // Every flip is an error: no bit of a version 2 file is unchecked.
        assert_eq!(detected, file.len() * 8, "{level:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sampled_bit_flips_never_decode_to_other_spans(bit in any::<prop::sample::Index>(), zstd in any::<bool>()) {
        let (spans, file) = archive(zstd.then_some(3));
        let bit = bit.index(file.len() * 8);
        let mut damaged = file;
        damaged[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(decompress(&damaged).is_err(), "bit {} decoded", bit);
        prop_assert!(never_different(&damaged, &spans).is_ok());
    }

    #[test]
    fn cuts_at_random_offsets_are_detected(cut in any::<prop::sample::Index>()) {
        let (_, file) = archive(Some(3));
        let cut = cut.index(file.len());
        prop_assert!(decompress(&file[..cut]).is_err(), "cut at {}", cut);
    }
}

#[test]
fn every_cut_is_detected_and_frame_boundaries_name_the_trailer() {
    let (_, file) = archive(Some(3));
    for cut in 0..file.len() {
        assert!(decompress(&file[..cut]).is_err(), "cut at {cut}");
    }
    // Every frame start (the first right after the header) and the trailer's start.
    let boundaries = frame_boundaries(&file);
    assert!(boundaries.len() >= 4);
    for &cut in &boundaries {
        let error = decompress(&file[..cut as usize]).unwrap_err();
        assert!(
            matches!(error, DecodeError::MissingTrailer { offset, .. } if offset == cut),
            "cut at {cut}: {error}"
        );
        assert!(
            error.to_string().contains(&format!("byte {cut}")),
            "{error}"
        );
    }
}

#[test]
fn a_missing_frame_or_extra_bytes_disagree_with_the_trailer() {
    let (_, file) = archive(Some(3));
    let boundaries = frame_boundaries(&file);
    // Frame 1 removed: every frame is intact, the whole is not.
    let mut without = file[..boundaries[1] as usize].to_vec();
    without.extend_from_slice(&file[boundaries[2] as usize..]);
    let error = decompress(&without).unwrap_err();
    assert!(
        error.to_string().contains("frame") || error.to_string().contains("trailer"),
        "{error}"
    );
    let mut extended = file.clone();
    extended.push(0);
    assert!(matches!(
        decompress(&extended),
        Err(DecodeError::BadTrailer { .. })
    ));
}

#[test]
fn damage_names_the_frame_and_its_offset() {
    let (_, file) = archive(Some(3));
    let boundaries = frame_boundaries(&file);
    let mut damaged = file.clone();
    let inside_frame_2 = boundaries[2] as usize + 5;
    damaged[inside_frame_2] ^= 0x10;
    let error = decompress(&damaged).unwrap_err();
    assert_eq!(
        error,
        DecodeError::ChecksumMismatch {
            frame: 2,
            offset: boundaries[2]
        }
    );
    assert!(
        error
            .to_string()
            .contains(&format!("frame 2 at byte {}", boundaries[2])),
        "{error}"
    );
}

/// An archive whose every frame resets, so frames after a lost one still decode.
fn resetting_archive() -> (Vec<Span>, Vec<u8>, Vec<usize>) {
    let spans = fixture_spans();
    let options = EncoderOptions {
        zstd_level: Some(3),
        max_dictionary_entries: 0,
        ..EncoderOptions::default()
    };
    let mut encoder = Encoder::new(0, options);
    let mut writer = FileWriter::new(Vec::new()).unwrap();
    let mut sizes = Vec::new();
    for batch in spans.chunks(4) {
        writer
            .write_frame(&encoder.encode_batch(batch).unwrap())
            .unwrap();
        sizes.push(batch.len());
    }
    (spans, writer.finish().unwrap().0, sizes)
}

#[test]
fn salvage_recovers_the_intact_frames() {
    let (spans, file, sizes) = resetting_archive();
    let boundaries = frame_boundaries(&file);
    // Damage frame 1's length prefix and frame 2's body.
    let mut damaged = file.clone();
    damaged[boundaries[1] as usize] ^= 0x40;
    damaged[boundaries[2] as usize + 7] ^= 0x01;
    assert!(decompress(&damaged).is_err());
    let mut recovered = Vec::new();
    let report = salvage(&damaged, DecoderOptions::default(), |frame_spans| {
        recovered.extend(frame_spans);
        Ok::<_, DecodeError>(())
    })
    .unwrap();
    let lost_spans = sizes[1] + sizes[2];
    let mut expected = spans[..sizes[0]].to_vec();
    expected.extend_from_slice(&spans[sizes[0] + lost_spans..]);
    assert!(spans_identical(&recovered, &expected));
    assert_eq!(report.frames_recovered, sizes.len() as u64 - 2);
    assert_eq!(report.frames_lost(), Some(2));
    assert_eq!(report.spans_lost(), Some(lost_spans as u64));
    let lost: Vec<(u64, u64)> = report.lost.iter().map(|r| (r.start, r.end)).collect();
    assert_eq!(lost, vec![(boundaries[1], boundaries[3])], "{report:?}");
}

#[test]
fn salvage_reports_frames_that_depend_on_a_lost_one_and_a_cut_tail() {
    // One reset at the start: after a lost frame the rest cannot be decoded, but their
    // headers (intact) still say how many spans were lost.
    let (spans, file) = archive(Some(3));
    let boundaries = frame_boundaries(&file);
    let mut damaged = file.clone();
    damaged[boundaries[1] as usize + 9] ^= 0x01;
    let report = salvage(&damaged, DecoderOptions::default(), |_| {
        Ok::<_, DecodeError>(())
    })
    .unwrap();
    assert_eq!(report.spans_recovered, 4);
    assert_eq!(report.spans_lost(), Some(spans.len() as u64 - 4));
    assert!(
        report
            .lost
            .iter()
            .any(|r| r.reason.contains("depends on a lost frame")),
        "{report:?}"
    );

    let cut = &file[..boundaries[2] as usize];
    let report = salvage(cut, DecoderOptions::default(), |_| Ok::<_, DecodeError>(())).unwrap();
    assert_eq!(report.frames_recovered, 2);
    assert_eq!(report.trailer, None);
    assert!(
        report.lost.iter().any(|r| r.reason.contains("cut short")),
        "{report:?}"
    );
}

#[test]
fn limits_refuse_hostile_frames_before_decoding() {
    // A frame header claiming two million spans is refused on the header.
    let spans = vec![Span::default(); 1000];
    let frame = Encoder::new(0, EncoderOptions::default())
        .encode_batch(&spans)
        .unwrap();
    let mut decoder = Decoder::new(DecoderOptions {
        max_spans_per_frame: 999,
        ..DecoderOptions::default()
    });
    assert!(matches!(
        decoder.decode_frame(&frame),
        Err(DecodeError::LimitExceeded(_))
    ));
    let mut hostile = vec![tracezip::FORMAT_VERSION, tracezip::FLAG_RESET, 0, 0];
    tracezip::wire::put_varint(&mut hostile, 2_000_000);
    tracezip::wire::put_varint(&mut hostile, 10);
    hostile.extend_from_slice(&[0; 10]);
    assert_eq!(
        Decoder::default().decode_frame(&hostile),
        Err(DecodeError::LimitExceeded(
            "frame holds more spans than max_spans_per_frame"
        ))
    );
    // Encoders never write such frames.
    let too_many = vec![Span::default(); tracezip::MAX_FRAME_SPANS + 1];
    assert!(
        Encoder::new(0, EncoderOptions::default())
            .encode_batch(&too_many)
            .is_err()
    );
}

#[test]
fn a_small_frame_cannot_decode_to_gigabytes() {
    // 200 spans sharing a 1 MiB attribute value: the frame is small (the value is sent
    // once), the spans would take 200 MiB.
    let long = AnyValue::String("x".repeat(1 << 20));
    let base = Span {
        attributes: vec![KeyValue {
            key: "blob".into(),
            value: long,
        }],
        resource: Arc::default(),
        ..Span::default()
    };
    let spans: Vec<Span> = (0..200u8)
        .map(|n| Span {
            span_id: vec![n; 8],
            ..base.clone()
        })
        .collect();
    let frame = Encoder::new(0, EncoderOptions::default())
        .encode_batch(&spans)
        .unwrap();
    assert!(frame.len() < 64 << 10, "{} bytes", frame.len());
    let mut limited = Decoder::new(DecoderOptions {
        max_decoded_frame_bytes: 32 << 20,
        ..DecoderOptions::default()
    });
    assert!(matches!(
        limited.decode_frame(&frame),
        Err(DecodeError::LimitExceeded(_))
    ));
    // Within the default limit the same frame decodes.
    let decoded = Decoder::default().decode_frame(&frame).unwrap();
    assert!(spans_identical(&decoded, &spans));
}

#[test]
fn decoding_streams_frame_by_frame() {
    let (spans, file) = archive(Some(3));
    let mut sizes = Vec::new();
    let (frames, count) = decompress_each(file.as_slice(), DecoderOptions::default(), |frame| {
        sizes.push(frame.len());
        Ok::<_, DecodeError>(())
    })
    .unwrap();
    assert_eq!(count, spans.len() as u64);
    assert_eq!(frames, sizes.len() as u64);
    assert!(sizes.iter().all(|&n| n <= 4));
}

/// A trailer with its checksums right but counts of its own.
fn with_trailer(file: &[u8], trailer_offset: usize, frames: u64, spans: u64) -> Vec<u8> {
    let mut out = file[..trailer_offset].to_vec();
    let whole = xxhash_rust::xxh3::xxh3_64(&out);
    let mut trailer = vec![0u8];
    tracezip::wire::put_varint(&mut trailer, frames);
    tracezip::wire::put_varint(&mut trailer, spans);
    trailer.extend_from_slice(&whole.to_le_bytes());
    let own = xxhash_rust::xxh3::xxh3_64(&trailer);
    trailer.extend_from_slice(&own.to_le_bytes());
    out.extend_from_slice(&trailer);
    out
}

#[test]
fn trailer_counts_that_disagree_with_the_frames_are_an_error() {
    let (spans, file) = archive(Some(3));
    let boundaries = frame_boundaries(&file);
    let trailer = *boundaries.last().unwrap() as usize;
    let frames = boundaries.len() as u64 - 1;
    let total = spans.len() as u64;
    // The same trailer rebuilt decodes: the construction is right.
    assert_eq!(with_trailer(&file, trailer, frames, total), file);
    for (claimed_frames, claimed_spans) in [(frames + 1, total), (frames, total - 1)] {
        let forged = with_trailer(&file, trailer, claimed_frames, claimed_spans);
        let error = decompress(&forged).unwrap_err();
        assert!(
            matches!(&error, DecodeError::BadTrailer { reason, .. } if reason.contains("the trailer says")),
            "{error}"
        );
    }
    // The frames of a shorter file under the longer file's trailer: the whole-file
    // checksum disagrees.
    let mut spliced = file[..boundaries[2] as usize].to_vec();
    spliced.extend_from_slice(&file[trailer..]);
    assert!(matches!(
        decompress(&spliced),
        Err(DecodeError::BadTrailer { .. })
    ));
}
