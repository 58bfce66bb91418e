//! Self-contained encodings of attribute values, attribute lists, resources and scopes.
//! The encoded bytes double as dictionary keys on the encoding side, which is how
//! doubles are compared bitwise and nested values hashed without a custom `Hash`.

use crate::MAX_VALUE_DEPTH;
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Reader, put_bytes, put_signed, put_varint};
use trace_formats::{AnyValue, KeyValue, Resource, Scope};

const TAG_EMPTY: u8 = 0;
const TAG_STRING: u8 = 1;
const TAG_FALSE: u8 = 2;
const TAG_TRUE: u8 = 3;
const TAG_INT: u8 = 4;
const TAG_DOUBLE: u8 = 5;
const TAG_BYTES: u8 = 6;
const TAG_ARRAY: u8 = 7;
const TAG_KVLIST: u8 = 8;

/// Appends `value`.
pub fn put_value(out: &mut Vec<u8>, value: &AnyValue) -> Result<(), EncodeError> {
    put_value_at(out, value, 0)
}

fn put_value_at(out: &mut Vec<u8>, value: &AnyValue, depth: usize) -> Result<(), EncodeError> {
    match value {
        AnyValue::Empty => out.push(TAG_EMPTY),
        AnyValue::String(text) => {
            out.push(TAG_STRING);
            put_bytes(out, text.as_bytes());
        }
        AnyValue::Bool(false) => out.push(TAG_FALSE),
        AnyValue::Bool(true) => out.push(TAG_TRUE),
        AnyValue::Int(number) => {
            out.push(TAG_INT);
            put_signed(out, *number);
        }
        AnyValue::Double(number) => {
            out.push(TAG_DOUBLE);
            out.extend_from_slice(&number.to_bits().to_le_bytes());
        }
        AnyValue::Bytes(bytes) => {
            out.push(TAG_BYTES);
            put_bytes(out, bytes);
        }
        AnyValue::Array(items) => {
            if depth >= MAX_VALUE_DEPTH {
                return Err(EncodeError::ValueTooDeep);
            }
            out.push(TAG_ARRAY);
            put_varint(out, items.len() as u64);
            for item in items {
                put_value_at(out, item, depth + 1)?;
            }
        }
        AnyValue::KvList(pairs) => {
            if depth >= MAX_VALUE_DEPTH {
                return Err(EncodeError::ValueTooDeep);
            }
            out.push(TAG_KVLIST);
            put_attributes_at(out, pairs, depth + 1)?;
        }
    }
    Ok(())
}

/// Reads a value written by [`put_value`].
pub fn read_value(reader: &mut Reader<'_>) -> Result<AnyValue, DecodeError> {
    read_value_at(reader, 0)
}

fn read_value_at(reader: &mut Reader<'_>, depth: usize) -> Result<AnyValue, DecodeError> {
    Ok(match reader.byte()? {
        TAG_EMPTY => AnyValue::Empty,
        TAG_STRING => AnyValue::String(reader.owned_string()?),
        TAG_FALSE => AnyValue::Bool(false),
        TAG_TRUE => AnyValue::Bool(true),
        TAG_INT => AnyValue::Int(reader.signed()?),
        TAG_DOUBLE => {
            let bytes = reader.take(8)?;
            let mut bits = [0u8; 8];
            bits.copy_from_slice(bytes);
            AnyValue::Double(f64::from_bits(u64::from_le_bytes(bits)))
        }
        TAG_BYTES => AnyValue::Bytes(reader.owned_bytes()?),
        TAG_ARRAY => {
            if depth >= MAX_VALUE_DEPTH {
                return Err(reader.invalid("value nested too deep"));
            }
            let len = reader.count(1)?;
            reader.charge(len * std::mem::size_of::<AnyValue>())?;
            let mut items = Vec::with_capacity(len);
            for _ in 0..len {
                items.push(read_value_at(reader, depth + 1)?);
            }
            AnyValue::Array(items)
        }
        TAG_KVLIST => {
            if depth >= MAX_VALUE_DEPTH {
                return Err(reader.invalid("value nested too deep"));
            }
            AnyValue::KvList(read_attributes_at(reader, depth + 1)?)
        }
        _ => return Err(reader.invalid("unknown value tag")),
    })
}

/// Appends an attribute list with literal keys.
pub fn put_attributes(out: &mut Vec<u8>, pairs: &[KeyValue]) -> Result<(), EncodeError> {
    put_attributes_at(out, pairs, 0)
}

fn put_attributes_at(
    out: &mut Vec<u8>,
    pairs: &[KeyValue],
    depth: usize,
) -> Result<(), EncodeError> {
    put_varint(out, pairs.len() as u64);
    for pair in pairs {
        put_bytes(out, pair.key.as_bytes());
        put_value_at(out, &pair.value, depth)?;
    }
    Ok(())
}

/// Reads a list written by [`put_attributes`].
pub fn read_attributes(reader: &mut Reader<'_>) -> Result<Vec<KeyValue>, DecodeError> {
    read_attributes_at(reader, 0)
}

fn read_attributes_at(reader: &mut Reader<'_>, depth: usize) -> Result<Vec<KeyValue>, DecodeError> {
    // Each pair takes at least two bytes: an empty key and a value tag.
    let len = reader.count(2)?;
    reader.charge(len * std::mem::size_of::<KeyValue>())?;
    let mut pairs = Vec::with_capacity(len);
    for _ in 0..len {
        let key = reader.owned_string()?;
        let value = read_value_at(reader, depth)?;
        pairs.push(KeyValue { key, value });
    }
    Ok(pairs)
}

/// Appends a resource.
pub fn put_resource(out: &mut Vec<u8>, resource: &Resource) -> Result<(), EncodeError> {
    put_attributes(out, &resource.attributes)?;
    put_varint(out, u64::from(resource.dropped_attributes_count));
    put_bytes(out, resource.schema_url.as_bytes());
    Ok(())
}

/// Reads a resource written by [`put_resource`].
pub fn read_resource(reader: &mut Reader<'_>) -> Result<Resource, DecodeError> {
    Ok(Resource {
        attributes: read_attributes(reader)?,
        dropped_attributes_count: reader.varint_u32()?,
        schema_url: reader.owned_string()?,
    })
}

/// Appends a scope.
pub fn put_scope(out: &mut Vec<u8>, scope: &Scope) -> Result<(), EncodeError> {
    put_bytes(out, scope.name.as_bytes());
    put_bytes(out, scope.version.as_bytes());
    put_attributes(out, &scope.attributes)?;
    put_varint(out, u64::from(scope.dropped_attributes_count));
    put_bytes(out, scope.schema_url.as_bytes());
    Ok(())
}

/// Reads a scope written by [`put_scope`].
pub fn read_scope(reader: &mut Reader<'_>) -> Result<Scope, DecodeError> {
    Ok(Scope {
        name: reader.owned_string()?,
        version: reader.owned_string()?,
        attributes: read_attributes(reader)?,
        dropped_attributes_count: reader.varint_u32()?,
        schema_url: reader.owned_string()?,
    })
}

/// Heap bytes a decoded `value` takes (its structures and text), for the decoder's
/// per-frame budget.
pub fn decoded_bytes(value: &AnyValue) -> usize {
    match value {
        AnyValue::String(text) => text.len(),
        AnyValue::Bytes(bytes) => bytes.len(),
        AnyValue::Array(items) => items
            .iter()
            .map(|item| std::mem::size_of::<AnyValue>() + decoded_bytes(item))
            .sum(),
        AnyValue::KvList(pairs) => pairs.iter().map(pair_decoded_bytes).sum(),
        AnyValue::Empty | AnyValue::Bool(_) | AnyValue::Int(_) | AnyValue::Double(_) => 0,
    }
}

/// Heap bytes of one attribute, the pair itself included.
pub fn pair_decoded_bytes(pair: &KeyValue) -> usize {
    std::mem::size_of::<KeyValue>() + pair.key.len() + decoded_bytes(&pair.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_values_round_trip_and_depth_is_bounded() {
        let value = AnyValue::KvList(vec![KeyValue {
            key: "k".into(),
            value: AnyValue::Array(vec![AnyValue::Double(-0.0), AnyValue::Bytes(vec![0, 255])]),
        }]);
        let mut out = Vec::new();
        put_value(&mut out, &value).unwrap();
        assert_eq!(read_value(&mut Reader::new(&out, "t")).unwrap(), value);

        let mut deep = AnyValue::Empty;
        for _ in 0..=MAX_VALUE_DEPTH {
            deep = AnyValue::Array(vec![deep]);
        }
        assert_eq!(
            put_value(&mut Vec::new(), &deep),
            Err(EncodeError::ValueTooDeep)
        );
        let garbage = [TAG_ARRAY, 1].repeat(MAX_VALUE_DEPTH + 2);
        assert!(read_value(&mut Reader::new(&garbage, "t")).is_err());
    }
}
