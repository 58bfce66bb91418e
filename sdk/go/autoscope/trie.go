package autoscope

// prefixTrie indexes candidates by a literal prefix (a prefix matcher's text, a
// template's text before its first placeholder): walking a span name down the trie
// meets exactly the candidates whose prefix the name starts with, so a policy's many
// templates and prefixes cost one walk instead of one test each.
//
// A reversed trie indexes suffixes instead (a glob's text after its last wildcard): it
// holds each suffix byte-reversed and walks the name from its end.
type prefixTrie struct {
	root     trieNode
	reversed bool
}

type trieNode struct {
	children []trieEdge
	// firsts holds the first byte of each child's label, in the same order: the byte
	// scanned to pick the child (set by finish).
	firsts []byte
	// candidates are indexes into the owning list, which is sorted by rank, so they are
	// in rank order too.
	candidates []int
}

// trieEdge is labelled with a run of bytes: the nodes between would have one child and
// no candidates (they are compressed away by finish).
type trieEdge struct {
	label string
	node  *trieNode
}

func (t *prefixTrie) insert(prefix string, candidate int) {
	node := &t.root
	for i := 0; i < len(prefix); i++ {
		b := prefix[i]
		if t.reversed {
			b = prefix[len(prefix)-1-i]
		}
		node = node.child(b, true)
	}
	node.candidates = append(node.candidates, candidate)
}

func (n *trieNode) child(b byte, create bool) *trieNode {
	for i := range n.children {
		if n.children[i].label[0] == b {
			return n.children[i].node
		}
	}
	if !create {
		return nil
	}
	child := &trieNode{}
	n.children = append(n.children, trieEdge{string([]byte{b}), child})
	return child
}

// finish compresses chains of single-child nodes without candidates into one edge.
func (t *prefixTrie) finish() {
	t.root.compress()
}

func (n *trieNode) compress() {
	n.firsts = make([]byte, len(n.children))
	for i := range n.children {
		edge := &n.children[i]
		for len(edge.node.children) == 1 && len(edge.node.candidates) == 0 {
			next := edge.node.children[0]
			edge.label += next.label
			edge.node = next.node
		}
		n.firsts[i] = edge.label[0]
		edge.node.compress()
	}
}

// childFor is the index of the child whose label starts with b, or -1.
func (n *trieNode) childFor(b byte) int {
	for i, first := range n.firsts {
		if first == b {
			return i
		}
	}
	return -1
}

// best is the lowest-ranked candidate (an index into list) among those whose prefix
// name starts with (whose suffix it ends with, reversed) and for which ok holds, or
// start if that ranks lower (-1: none so far); -1 if none.
func (t *prefixTrie) best(name string, list []candidate, ok func(*candidate) bool, start int) int {
	best := start
	node := &t.root
	for at := 0; ; {
		for _, c := range node.candidates {
			if best >= 0 && list[best].rank <= list[c].rank {
				break // in rank order: nothing later at this node wins
			}
			if ok(&list[c]) {
				best = c
				break
			}
		}
		if at == len(name) {
			return best
		}
		next := (*trieNode)(nil)
		if t.reversed {
			if i := node.childFor(name[len(name)-1-at]); i >= 0 {
				edge := &node.children[i]
				if len(name)-at >= len(edge.label) && endsWithReversed(name[:len(name)-at], edge.label) {
					next = edge.node
					at += len(edge.label)
				}
			}
		} else if i := node.childFor(name[at]); i >= 0 {
			edge := &node.children[i]
			if len(name)-at >= len(edge.label) && name[at:at+len(edge.label)] == edge.label {
				next = edge.node
				at += len(edge.label)
			}
		}
		if next == nil {
			return best
		}
		node = next
	}
}

// endsWithReversed reports whether text ends with the bytes of label in reverse order
// (text at least as long as label).
func endsWithReversed(text, label string) bool {
	end := len(text) - 1
	for i := 0; i < len(label); i++ {
		if text[end-i] != label[i] {
			return false
		}
	}
	return true
}
