package autoscope

// prefixTrie indexes candidates by a literal prefix (a prefix matcher's text, a
// template's text before its first placeholder): walking a span name down the trie
// meets exactly the candidates whose prefix the name starts with, so a policy's many
// templates and prefixes cost one walk instead of one test each.
type prefixTrie struct {
	root trieNode
}

type trieNode struct {
	children []trieEdge
	// candidates are indexes into the owning list, which is sorted by rank, so they are
	// in rank order too.
	candidates []int
}

type trieEdge struct {
	b    byte
	node *trieNode
}

func (t *prefixTrie) insert(prefix string, candidate int) {
	node := &t.root
	for i := 0; i < len(prefix); i++ {
		node = node.child(prefix[i], true)
	}
	node.candidates = append(node.candidates, candidate)
}

func (n *trieNode) child(b byte, create bool) *trieNode {
	for i := range n.children {
		if n.children[i].b == b {
			return n.children[i].node
		}
	}
	if !create {
		return nil
	}
	child := &trieNode{}
	n.children = append(n.children, trieEdge{b, child})
	return child
}

// best is the lowest-ranked candidate (an index into list) among those whose prefix
// name starts with and for which ok holds; -1 if none.
func (t *prefixTrie) best(name string, list []candidate, ok func(*candidate) bool) int {
	best := -1
	node := &t.root
	for i := 0; ; i++ {
		for _, c := range node.candidates {
			if best >= 0 && list[best].rank <= list[c].rank {
				break // in rank order: nothing later at this node wins
			}
			if ok(&list[c]) {
				best = c
				break
			}
		}
		if i == len(name) {
			return best
		}
		if node = node.child(name[i], false); node == nil {
			return best
		}
	}
}
