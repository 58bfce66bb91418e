use super::*;
use proptest::prelude::*;

fn limits() -> Limits {
    Limits {
        decision_wait: 10,
        max_trace_age: 100,
        max_buffered_spans: 1_000,
        max_buffered_bytes: 1_000_000,
        decision_cache_traces: 16,
    }
}

type Test = Assembler<u32, &'static str, Vec<&'static str>>;

fn drain(assembler: &mut Test, now: u64) -> Vec<Closed<u32, &'static str>> {
    std::iter::from_fn(|| assembler.poll(now)).collect()
}

#[test]
fn a_trace_closes_when_its_root_has_waited() {
    let mut assembler = Test::new(limits());
    assert_eq!(assembler.push(0, 1, "child", false, 10), Pushed::Buffered);
    assert_eq!(assembler.push(5, 1, "root", true, 10), Pushed::Buffered);
    assert_eq!(assembler.next_due(), Some(15));
    assert!(assembler.poll(14).is_none());
    // A span arriving in the wait postpones the decision.
    assert_eq!(
        assembler.push(14, 1, "straggler", false, 10),
        Pushed::Buffered
    );
    assert!(assembler.poll(23).is_none());
    let closed = assembler.poll(24).expect("due at 24");
    assert_eq!(closed.key, 1);
    assert_eq!(closed.spans, ["child", "root", "straggler"]);
    assert_eq!(closed.reason, CloseReason::Complete);
    assert_eq!(closed.bytes, 30);
    assert_eq!(assembler.buffered_spans(), 0);
    assert_eq!(assembler.buffered_bytes(), 0);
    assert_eq!(assembler.next_due(), None);
}

#[test]
fn a_trace_without_root_closes_at_the_deadline() {
    let mut assembler = Test::new(limits());
    assembler.push(3, 7, "orphan", false, 1);
    assert!(assembler.poll(102).is_none());
    let closed = assembler.poll(103).expect("deadline");
    assert_eq!(closed.reason, CloseReason::Deadline);
    assert!(!closed.root_seen);
}

#[test]
fn spans_that_keep_coming_meet_the_deadline() {
    let mut assembler = Test::new(limits());
    assembler.push(0, 1, "root", true, 1);
    for t in (5..100).step_by(5) {
        assembler.push(t, 1, "more", false, 1);
        assert!(assembler.poll(t).is_none(), "closed early at {t}");
    }
    let closed = assembler.poll(100).expect("deadline at 100");
    assert_eq!(closed.reason, CloseReason::Deadline);
    assert_eq!(closed.spans.len(), 20);
}

#[test]
fn due_traces_come_out_in_due_order_then_arrival() {
    let mut assembler = Test::new(limits());
    assembler.push(0, 3, "a", true, 1);
    assembler.push(0, 1, "b", true, 1);
    assembler.push(1, 2, "c", true, 1);
    assembler.push(0, 9, "no root", false, 1);
    let keys: Vec<u32> = drain(&mut assembler, 1_000).iter().map(|c| c.key).collect();
    assert_eq!(keys, [3, 1, 2, 9]);
}

#[test]
fn over_the_span_limit_the_oldest_traces_close_early() {
    let mut assembler = Test::new(Limits {
        max_buffered_spans: 4,
        ..limits()
    });
    for (t, key) in [(0, 1), (1, 1), (2, 2), (3, 3), (4, 3)] {
        assembler.push(t, key, "s", false, 1);
    }
    // Five spans against four: trace 1 (two spans, the oldest) closes at once.
    assert_eq!(assembler.next_due(), Some(4));
    let closed = assembler.poll(4).expect("overflow");
    assert_eq!((closed.key, closed.reason), (1, CloseReason::Overflow));
    assert!(assembler.poll(4).is_none());
    assert_eq!(assembler.buffered_spans(), 3);
    assert_eq!(assembler.stats().closed_overflow, 1);
}

#[test]
fn over_the_byte_limit_the_oldest_traces_close_early() {
    let mut assembler = Test::new(Limits {
        max_buffered_bytes: 100,
        ..limits()
    });
    assembler.push(0, 1, "s", false, 60);
    assembler.push(1, 2, "s", false, 30);
    assert!(assembler.has_room(1, 10));
    assert!(!assembler.has_room(1, 11));
    assembler.push(2, 3, "s", false, 30);
    let closed: Vec<_> = drain(&mut assembler, 2);
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].key, 1);
    assert_eq!(assembler.buffered_bytes(), 60);
}

#[test]
fn late_spans_get_the_remembered_decision() {
    let mut assembler = Test::new(limits());
    assembler.push(0, 1, "root", true, 1);
    let closed = assembler.poll(50).expect("complete");
    assembler.remember(closed.key, vec!["root"]);
    match assembler.push(60, 1, "late", false, 1) {
        Pushed::Late(span, decision) => {
            assert_eq!(span, "late");
            decision.push(span);
        }
        other => panic!("not late: {other:?}"),
    }
    assert_eq!(assembler.decision(&1), Some(&vec!["root", "late"]));
    assert_eq!(assembler.buffered_spans(), 0);
    assert_eq!(assembler.stats().late_cached, 1);
}

#[test]
fn the_decision_cache_forgets_the_oldest() {
    let mut assembler = Test::new(Limits {
        decision_cache_traces: 2,
        ..limits()
    });
    for key in 1..=3 {
        assembler.remember(key, vec![]);
    }
    assert!(assembler.decision(&1).is_none());
    assert!(assembler.decision(&3).is_some());
    assert_eq!(assembler.forgotten_decisions(), 1);
    // A forgotten trace starts anew.
    assert_eq!(assembler.push(0, 1, "s", false, 1), Pushed::Buffered);
}

#[test]
fn spilled_traces_come_back_to_the_caller() {
    let mut assembler = Test::new(Limits {
        max_buffered_spans: 2,
        ..limits()
    });
    assembler.push(0, 1, "a", false, 1);
    assembler.push(1, 2, "b", false, 1);
    assembler.push(2, 3, "c", false, 1);
    let closed = assembler.poll(2).expect("overflow");
    assert_eq!(closed.reason, CloseReason::Overflow);
    assembler.mark_spilled(closed.key);
    assert_eq!(assembler.push(3, 1, "a2", false, 1), Pushed::Spilled("a2"));
    assert_eq!(assembler.spilled(), [1]);
    assert_eq!(assembler.stats().spilled_spans, 1);
}

#[test]
fn close_all_flushes_oldest_first() {
    let mut assembler = Test::new(limits());
    assembler.push(0, 5, "a", false, 1);
    assembler.push(1, 4, "b", true, 1);
    let closed = assembler.close_all();
    assert_eq!(closed.iter().map(|c| c.key).collect::<Vec<_>>(), [5, 4]);
    assert!(closed.iter().all(|c| c.reason == CloseReason::Flush));
    assert_eq!(assembler.open_traces(), 0);
    assert_eq!(assembler.next_due(), None);
}

#[test]
fn a_clock_that_goes_back_reopens_nothing() {
    let mut assembler = Test::new(limits());
    assembler.push(100, 1, "root", true, 1);
    // Time 50 is read as 100.
    assembler.push(50, 2, "root", true, 1);
    assert_eq!(assembler.next_due(), Some(110));
}

proptest! {
    /// Whatever the arrivals, every span pushed comes out exactly once (buffered, late,
    /// or spilled), memory never exceeds the limits after a poll, and closed traces hold
    /// spans of their own key only.
    #[test]
    fn nothing_is_lost_and_memory_stays_bounded(
        events in proptest::collection::vec((0u64..5, 0u32..12, any::<bool>(), 1usize..20), 1..300),
        max_spans in 1usize..30,
        max_bytes in 20usize..200,
    ) {
        let mut assembler: Assembler<u32, (u32, usize), ()> = Assembler::new(Limits {
            decision_wait: 3,
            max_trace_age: 20,
            max_buffered_spans: max_spans,
            max_buffered_bytes: max_bytes,
            decision_cache_traces: 4,
        });
        let mut now = 0;
        let mut out = 0usize;
        for (index, (step, key, root, bytes)) in events.iter().copied().enumerate() {
            now += step;
            match assembler.push(now, key, (key, index), root, bytes) {
                Pushed::Buffered => {}
                Pushed::Late(..) | Pushed::Spilled(..) => out += 1,
            }
            while let Some(closed) = assembler.poll(now) {
                prop_assert!(closed.spans.iter().all(|(k, _)| *k == closed.key));
                out += closed.spans.len();
                assembler.remember(closed.key, ());
            }
            prop_assert!(assembler.buffered_spans() <= max_spans);
            prop_assert!(assembler.buffered_bytes() <= max_bytes.max(19));
        }
        out += assembler.close_all().iter().map(|c| c.spans.len()).sum::<usize>();
        prop_assert_eq!(out, events.len());
        prop_assert_eq!(assembler.buffered_spans(), 0);
        prop_assert_eq!(assembler.buffered_bytes(), 0);
    }
}

#[test]
fn an_unspilled_key_opens_a_new_trace() {
    let mut assembler: Assembler<u32, u32, ()> = Assembler::new(Limits {
        decision_wait: 10,
        max_trace_age: 100,
        max_buffered_spans: 1,
        max_buffered_bytes: usize::MAX,
        decision_cache_traces: 0,
    });
    assert_eq!(assembler.push(0, 1, 10, false, 1), Pushed::Buffered);
    assert_eq!(assembler.push(1, 2, 20, false, 1), Pushed::Buffered);
    let closed = assembler.poll(1).expect("the oldest trace overflows");
    assert_eq!(closed.key, 1);
    assembler.mark_spilled(1);
    assert_eq!(assembler.push(2, 1, 11, false, 1), Pushed::Spilled(11));
    assembler.unspill(&1);
    assert!(assembler.spilled().is_empty());
    assert_eq!(assembler.push(3, 1, 12, false, 1), Pushed::Buffered);
}
