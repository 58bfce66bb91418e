//! The research span CSV (`TraceID,SpanID,ParentID,PodName,OperationName,
//! StartTimeUnixNano,EndTimeUnixNano,Duration`): textual ids, times in nanoseconds.
//!
//! Mapping: `OperationName` → name; `PodName` → resource with `k8s.pod.name` and
//! `service.name` = the pod name without its Kubernetes suffix ([`service_of_pod`]);
//! `ParentID` `root` (or empty) → root. `Duration` is derived and not read. Kind is
//! unspecified and status unset: the format has neither. An operation name that is
//! not UTF-8 keeps its bytes in [`ORIGINAL_NAME`]; a pod name that is not UTF-8 is a
//! bytes `k8s.pod.name` (the service name is its lossy text).

use crate::csv::{CsvSpec, FieldError, Row, parse_u64, read_csv};
use crate::document::TraceDocument;
use crate::error::ReadError;
use crate::format::Format;
use crate::model::{KeyValue, ORIGINAL_NAME, Resource, Scope, Span, SpanKind, Status};
use crate::skywalking::{original_bytes, text_or_bytes};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

const TRACE_ID: usize = 0;
const SPAN_ID: usize = 1;
const PARENT: usize = 2;
const POD: usize = 3;
const OPERATION: usize = 4;
const START: usize = 5;
const END: usize = 6;

const SPEC: CsvSpec = CsvSpec {
    format: Format::ResearchCsv,
    required: &[
        "TraceID",
        "SpanID",
        "ParentID",
        "PodName",
        "OperationName",
        "StartTimeUnixNano",
        "EndTimeUnixNano",
    ],
    span_id_column: SPAN_ID,
    parent_column: PARENT,
    root_text: b"root",
};

pub(crate) fn read(bytes: Cow<'_, [u8]>, origin: &str) -> Result<TraceDocument, ReadError> {
    let mut resources: HashMap<Vec<u8>, Arc<Resource>> = HashMap::new();
    let scope = Arc::new(Scope::default());
    read_csv(bytes, origin, &SPEC, |row| {
        let pod = row.get(POD);
        let resource = match resources.get(pod.as_ref()) {
            Some(resource) => resource.clone(),
            None => {
                let pod_name = String::from_utf8_lossy(&pod).into_owned();
                let resource = Arc::new(Resource {
                    attributes: vec![
                        KeyValue::string("service.name", service_of_pod(&pod_name)),
                        text_or_bytes("k8s.pod.name", &pod),
                    ],
                    ..Resource::default()
                });
                resources.insert(pod.into_owned(), resource.clone());
                resource
            }
        };
        let operation = row.get(OPERATION);
        let parent = row.get(PARENT);
        let parent_span_id = if parent.as_ref() == b"root" {
            Vec::new()
        } else {
            parent.into_owned()
        };
        Ok(Span {
            trace_id: row.get(TRACE_ID).into_owned(),
            span_id: row.get(SPAN_ID).into_owned(),
            parent_span_id,
            trace_state: String::new(),
            name: String::from_utf8_lossy(&operation).into_owned(),
            kind: SpanKind::Unspecified,
            start_time_unix_nano: nanos(row, START)?,
            end_time_unix_nano: nanos(row, END)?,
            attributes: original_bytes(ORIGINAL_NAME, &operation)
                .into_iter()
                .collect(),
            dropped_attributes_count: 0,
            events: Vec::new(),
            dropped_events_count: 0,
            links: Vec::new(),
            dropped_links_count: 0,
            status: Status::default(),
            flags: 0,
            resource,
            scope: scope.clone(),
        })
    })
}

fn nanos(row: &Row<'_>, column: usize) -> Result<u64, FieldError> {
    parse_u64(&row.get(column)).map_err(|message| FieldError { column, message })
}

/// The service a Kubernetes pod belongs to: the pod name without the suffix its
/// controller added.
///
/// - Deployment: `name-<pod-template-hash>-<5 chars>` → `name`;
/// - ReplicaSet, DaemonSet or Job: `name-<5 chars>` → `name`;
/// - StatefulSet: `name-<ordinal>` → `name`.
///
/// Generated parts use Kubernetes' alphabet `bcdfghjklmnpqrstvwxz2456789` (no vowels,
/// so real words are rarely mistaken for them). A name that does not look generated is
/// returned whole.
pub fn service_of_pod(pod: &str) -> &str {
    fn generated(part: &str, lengths: std::ops::RangeInclusive<usize>) -> bool {
        lengths.contains(&part.len())
            && part
                .bytes()
                .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b))
    }
    let Some((rest, last)) = pod.rsplit_once('-') else {
        return pod;
    };
    if rest.is_empty() {
        return pod;
    }
    if generated(last, 5..=5) {
        if let Some((name, hash)) = rest.rsplit_once('-')
            && !name.is_empty()
            && generated(hash, 6..=10)
        {
            return name;
        }
        return rest;
    }
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return rest;
    }
    pod
}

#[cfg(test)]
mod tests {
    use super::service_of_pod;

    #[test]
    fn pod_suffixes_are_stripped() {
        assert_eq!(service_of_pod("frontend-5d8f9c7b6d-x2x9k"), "frontend");
        assert_eq!(
            service_of_pod("ts-order-service-7c9b8d5f4-zx7vq"),
            "ts-order-service"
        );
        assert_eq!(service_of_pod("mongodb-user-0"), "mongodb-user");
        assert_eq!(service_of_pod("node-exporter-x2x9k"), "node-exporter");
        assert_eq!(service_of_pod("user-service"), "user-service");
        assert_eq!(service_of_pod("frontend"), "frontend");
        assert_eq!(service_of_pod("-0"), "-0");
    }
}
