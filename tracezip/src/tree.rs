//! The Span Retrieval Tree (SRT), kept in step on both sides.
//!
//! From the root, one branch per span name; below it one level for what the span's
//! kind, status code, resource and scope are; then one level per attribute, ordered by
//! ascending number of distinct values of its key (so that low-cardinality attributes
//! share the upper part of the tree), each edge keyed by the attribute's key and value
//! dictionary ids, or by the key alone for a high-cardinality attribute whose value is
//! sent inline; finally a layout leaf that restores the attributes' original order. The
//! leaf's node id is the *path id*, which stands for the whole shared part of a span.
//! Nodes are numbered in creation order, so defining one costs its parent and its edge.

use crate::error::DecodeError;
use crate::wire::{Reader, put_varint};
use std::collections::HashMap;
use std::sync::Arc;
use trace_formats::{AnyValue, KeyValue, Resource, Scope, SpanKind, StatusCode};

/// Node id of the root, which is never sent.
pub const ROOT: u32 = 0;

const TAG_NAME: u8 = 0;
const TAG_META: u8 = 1;
const TAG_ATTRIBUTE: u8 = 2;
const TAG_INLINE: u8 = 3;
const TAG_LAYOUT: u8 = 4;

/// An edge of the tree, by dictionary ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// Span name (string id).
    Name(u32),
    /// Kind, status code, resource id and scope id.
    Meta {
        /// Span kind number.
        kind: u8,
        /// Status code number.
        status: u8,
        /// Resource id.
        resource: u32,
        /// Scope id.
        scope: u32,
    },
    /// An attribute held in the tree: key string id and value id.
    Attribute {
        /// Key string id.
        key: u32,
        /// Value id.
        value: u32,
    },
    /// An attribute whose value is sent inline with each span: key string id.
    Inline {
        /// Key string id.
        key: u32,
    },
    /// The leaf: an encoder-local id of the attribute order (see [`EncoderTree::child`]).
    Layout(u32),
}

impl Label {
    /// The edge from `parent` as one integer: cheap to hash and compare.
    #[inline]
    fn edge_key(self, parent: u32) -> u128 {
        let (tag, a, b): (u128, u32, u32) = match self {
            Label::Name(name) => (0, name, 0),
            Label::Meta {
                kind,
                status,
                resource,
                scope,
            } => (
                1 | (u128::from(kind) << 8) | (u128::from(status) << 16),
                resource,
                scope,
            ),
            Label::Attribute { key, value } => (2, key, value),
            Label::Inline { key } => (3, key, 0),
            Label::Layout(layout) => (4, layout, 0),
        };
        (u128::from(parent) << 96) | (tag << 64) | (u128::from(a) << 32) | u128::from(b)
    }
}

/// A hasher for integer keys: one multiply per word, enough for dictionary ids.
#[derive(Debug, Default, Clone, Copy)]
pub struct IntegerHasher(u64);

impl std::hash::Hasher for IntegerHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    #[inline]
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    #[inline]
    fn write_u128(&mut self, word: u128) {
        self.write_u64(word as u64);
        self.write_u64((word >> 64) as u64);
        self.0 ^= self.0 >> 29;
    }
}

/// Builds [`IntegerHasher`]s.
pub type IntegerHashBuilder = std::hash::BuildHasherDefault<IntegerHasher>;

/// The encoding side's tree: finds or creates the child along an edge.
#[derive(Debug, Default)]
pub struct EncoderTree {
    children: HashMap<u128, u32, IntegerHashBuilder>,
    layouts: HashMap<Vec<u32>, u32, ahash::RandomState>,
    node_count: u32,
}

impl EncoderTree {
    /// Number of nodes including the root.
    pub fn len(&self) -> usize {
        self.node_count as usize + 1
    }

    /// Whether only the root exists.
    pub fn is_empty(&self) -> bool {
        self.node_count == 0
    }

    /// The child of `parent` along `label`; a new child's definition is appended to
    /// `definitions` (and `layout` gives a layout leaf's positions).
    #[inline]
    pub fn child(
        &mut self,
        parent: u32,
        label: Label,
        layout: &[u32],
        definitions: &mut Vec<u8>,
        definition_count: &mut u64,
    ) -> u32 {
        let edge = label.edge_key(parent);
        if let Some(&child) = self.children.get(&edge) {
            return child;
        }
        self.node_count += 1;
        let child = self.node_count;
        self.children.insert(edge, child);
        *definition_count += 1;
        put_varint(definitions, u64::from(parent));
        match label {
            Label::Name(name) => {
                definitions.push(TAG_NAME);
                put_varint(definitions, u64::from(name));
            }
            Label::Meta {
                kind,
                status,
                resource,
                scope,
            } => {
                definitions.push(TAG_META);
                definitions.push(kind);
                definitions.push(status);
                put_varint(definitions, u64::from(resource));
                put_varint(definitions, u64::from(scope));
            }
            Label::Attribute { key, value } => {
                definitions.push(TAG_ATTRIBUTE);
                put_varint(definitions, u64::from(key));
                put_varint(definitions, u64::from(value));
            }
            Label::Inline { key } => {
                definitions.push(TAG_INLINE);
                put_varint(definitions, u64::from(key));
            }
            Label::Layout(_) => {
                definitions.push(TAG_LAYOUT);
                put_varint(definitions, layout.len() as u64);
                for &position in layout {
                    put_varint(definitions, u64::from(position));
                }
            }
        }
        child
    }

    /// An encoder-local id for an attribute order, so layouts can key tree edges.
    #[inline]
    pub fn layout_id(&mut self, layout: &[u32]) -> u32 {
        if let Some(&id) = self.layouts.get(layout) {
            return id;
        }
        let id = self.layouts.len() as u32;
        self.layouts.insert(layout.to_vec(), id);
        id
    }
}

/// One attribute of a path, in the span's original order.
#[derive(Debug, Clone)]
pub enum Slot {
    /// Held in the tree.
    Fixed(KeyValue),
    /// Value sent inline: the key, and its string id.
    Inline(String, u32),
}

/// Everything a path id stands for, ready to stamp onto decoded spans.
#[derive(Debug, Clone)]
pub struct Template {
    /// Span name.
    pub name: String,
    /// Span kind.
    pub kind: SpanKind,
    /// Status code.
    pub status: StatusCode,
    /// Resource.
    pub resource: Arc<Resource>,
    /// Scope.
    pub scope: Arc<Scope>,
    /// Attributes in original order.
    pub slots: Vec<Slot>,
    /// Heap bytes a span stamped from this template takes before its inline values
    /// and ids: charged to the decoder's per-frame budget.
    pub decoded_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Root,
    Name,
    Meta,
    Attribute,
    Layout,
}

#[derive(Debug, Clone)]
struct DecoderNode {
    parent: u32,
    kind: NodeKind,
    /// Dictionary ids of the edge (meaning depends on `kind`).
    first: u32,
    second: u32,
    /// Attribute levels between the meta node and this node, inclusive.
    attribute_depth: u32,
}

/// The decoding side's tree: node definitions and the templates of their leaves.
#[derive(Debug)]
pub struct DecoderTree {
    nodes: Vec<DecoderNode>,
    /// Template of each node, by node id (`None` except for leaves).
    templates: Vec<Option<Arc<Template>>>,
}

impl Default for DecoderTree {
    fn default() -> Self {
        Self {
            nodes: vec![DecoderNode {
                parent: ROOT,
                kind: NodeKind::Root,
                first: 0,
                second: 0,
                attribute_depth: 0,
            }],
            templates: vec![None],
        }
    }
}

/// Dictionaries a node definition may refer to.
pub struct Dictionaries<'a> {
    /// Strings.
    pub strings: &'a [String],
    /// Values.
    pub values: &'a [AnyValue],
    /// Resources.
    pub resources: &'a [Arc<Resource>],
    /// Scopes.
    pub scopes: &'a [Arc<Scope>],
}

fn lookup<'a, T>(items: &'a [T], id: u32, kind: &'static str) -> Result<&'a T, DecodeError> {
    items.get(id as usize).ok_or(DecodeError::UnknownId {
        kind,
        id: u64::from(id),
    })
}

impl DecoderTree {
    /// Number of nodes including the root.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether only the root exists.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }

    /// Reads one node definition, checks it against the tree's grammar, and builds the
    /// template when it is a leaf.
    pub fn define(
        &mut self,
        reader: &mut Reader<'_>,
        dictionaries: &Dictionaries<'_>,
    ) -> Result<(), DecodeError> {
        let parent = reader.varint_u32()?;
        let parent_node = self
            .nodes
            .get(parent as usize)
            .ok_or(DecodeError::UnknownId {
                kind: "tree node",
                id: u64::from(parent),
            })?
            .clone();
        let tag = reader.byte()?;
        let expected_parent = match tag {
            TAG_NAME => parent_node.kind == NodeKind::Root,
            TAG_META => parent_node.kind == NodeKind::Name,
            TAG_ATTRIBUTE | TAG_INLINE | TAG_LAYOUT => {
                matches!(parent_node.kind, NodeKind::Meta | NodeKind::Attribute)
            }
            _ => return Err(reader.invalid("unknown tree edge tag")),
        };
        if !expected_parent {
            return Err(reader.invalid("tree edge under the wrong kind of node"));
        }
        let id = self.nodes.len() as u32;
        let node = match tag {
            TAG_NAME => {
                let name = reader.varint_u32()?;
                lookup(dictionaries.strings, name, "string")?;
                DecoderNode {
                    parent,
                    kind: NodeKind::Name,
                    first: name,
                    second: 0,
                    attribute_depth: 0,
                }
            }
            TAG_META => {
                let kind = reader.byte()?;
                let status = reader.byte()?;
                if kind > 5 || status > 2 {
                    return Err(reader.invalid("span kind or status code out of range"));
                }
                let resource = reader.varint_u32()?;
                let scope = reader.varint_u32()?;
                lookup(dictionaries.resources, resource, "resource")?;
                lookup(dictionaries.scopes, scope, "scope")?;
                DecoderNode {
                    parent,
                    kind: NodeKind::Meta,
                    first: u32::from(kind) | (u32::from(status) << 8),
                    second: resource,
                    attribute_depth: scope,
                }
            }
            TAG_ATTRIBUTE | TAG_INLINE => {
                let key = reader.varint_u32()?;
                lookup(dictionaries.strings, key, "string")?;
                // Inline attributes are marked by a value id of u32::MAX.
                let value = if tag == TAG_ATTRIBUTE {
                    let value = reader.varint_u32()?;
                    lookup(dictionaries.values, value, "value")?;
                    if value == u32::MAX {
                        return Err(reader.invalid("value id out of range"));
                    }
                    value
                } else {
                    u32::MAX
                };
                let depth = if parent_node.kind == NodeKind::Attribute {
                    parent_node.attribute_depth + 1
                } else {
                    1
                };
                DecoderNode {
                    parent,
                    kind: NodeKind::Attribute,
                    first: key,
                    second: value,
                    attribute_depth: depth,
                }
            }
            _ => {
                let entries = if parent_node.kind == NodeKind::Attribute {
                    parent_node.attribute_depth as usize
                } else {
                    0
                };
                let len = reader.count(1)?;
                if len != entries {
                    return Err(reader.invalid("layout length differs from the attribute count"));
                }
                let mut layout = Vec::with_capacity(len);
                let mut seen = vec![false; len];
                for _ in 0..len {
                    let position = reader.varint()? as usize;
                    if position >= len || std::mem::replace(&mut seen[position], true) {
                        return Err(reader.invalid("layout is not a permutation"));
                    }
                    layout.push(position);
                }
                let template = self.template(parent, &layout, dictionaries)?;
                // Each template copies its path's attributes: count them as decoded.
                reader.charge(template.decoded_bytes)?;
                self.templates.resize(id as usize, None);
                self.templates.push(Some(Arc::new(template)));
                DecoderNode {
                    parent,
                    kind: NodeKind::Layout,
                    first: 0,
                    second: 0,
                    attribute_depth: 0,
                }
            }
        };
        self.nodes.push(node);
        Ok(())
    }

    /// Builds the template of a leaf whose parent is `parent`.
    fn template(
        &self,
        parent: u32,
        layout: &[usize],
        dictionaries: &Dictionaries<'_>,
    ) -> Result<Template, DecodeError> {
        // Walk up to the meta node, collecting attribute entries (deepest first).
        let mut entries = Vec::with_capacity(layout.len());
        let mut node = &self.nodes[parent as usize];
        while node.kind == NodeKind::Attribute {
            let key = lookup(dictionaries.strings, node.first, "string")?.clone();
            entries.push(if node.second == u32::MAX {
                Slot::Inline(key, node.first)
            } else {
                let value = lookup(dictionaries.values, node.second, "value")?.clone();
                Slot::Fixed(KeyValue { key, value })
            });
            node = &self.nodes[node.parent as usize];
        }
        entries.reverse();
        let meta = node;
        let name_node = &self.nodes[meta.parent as usize];
        let name = lookup(dictionaries.strings, name_node.first, "string")?.clone();
        let slots: Vec<Slot> = layout.iter().map(|&entry| entries[entry].clone()).collect();
        let decoded_bytes = std::mem::size_of::<trace_formats::Span>()
            + name.len()
            + slots
                .iter()
                .map(|slot| match slot {
                    Slot::Fixed(pair) => crate::value::pair_decoded_bytes(pair),
                    Slot::Inline(key, _) => std::mem::size_of::<KeyValue>() + key.len(),
                })
                .sum::<usize>();
        Ok(Template {
            name,
            kind: SpanKind::from_i32((meta.first & 0xff) as i32),
            status: match meta.first >> 8 {
                1 => StatusCode::Ok,
                2 => StatusCode::Error,
                _ => StatusCode::Unset,
            },
            resource: lookup(dictionaries.resources, meta.second, "resource")?.clone(),
            scope: lookup(dictionaries.scopes, meta.attribute_depth, "scope")?.clone(),
            slots,
            decoded_bytes,
        })
    }

    /// The template of path `path`.
    #[inline]
    pub fn path(&self, path: u32) -> Result<&Arc<Template>, DecodeError> {
        self.templates
            .get(path as usize)
            .and_then(Option::as_ref)
            .ok_or(DecodeError::UnknownId {
                kind: "path",
                id: u64::from(path),
            })
    }
}
