package autoscope

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Matchers on span names and on attribute text (conformance/README.md, "Matchers").

type pieceKind uint8

const (
	literalPiece pieceKind = iota
	segmentPiece           // {name}: one or more characters, none of them '/'
	restPiece              // {name:**}: one or more characters, '/' included
)

type piece struct {
	kind pieceKind
	text string // the literal text, or the placeholder's name
}

// template is a parsed route template such as /orders/{id}.
type template struct {
	pieces []piece
	// slashDelimited: every segment is followed by the end or a literal starting with
	// '/', and a rest can only be last; then one left-to-right scan decides a match.
	slashDelimited bool
}

func validPlaceholderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '_' && r != '-' && r != '.' {
			return false
		}
	}
	return true
}

func parseTemplate(text string) (*template, error) {
	if text == "" {
		return nil, fmt.Errorf("empty template")
	}
	var pieces []piece
	var literal strings.Builder
	for i := 0; i < len(text); {
		switch {
		case strings.HasPrefix(text[i:], "{{"):
			literal.WriteByte('{')
			i += 2
		case strings.HasPrefix(text[i:], "}}"):
			literal.WriteByte('}')
			i += 2
		case text[i] == '}':
			return nil, fmt.Errorf("unmatched '}' at byte %d (write '}}' for a literal brace)", i)
		case text[i] == '{':
			end := strings.IndexByte(text[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed '{' at byte %d", i)
			}
			inner := text[i+1 : i+1+end]
			name, rest := strings.CutSuffix(inner, ":**")
			if !validPlaceholderName(name) {
				return nil, fmt.Errorf("invalid placeholder name %q (letters, digits, '_', '-', '.')", inner)
			}
			if literal.Len() > 0 {
				pieces = append(pieces, piece{literalPiece, literal.String()})
				literal.Reset()
			} else if n := len(pieces); n > 0 && pieces[n-1].kind != literalPiece {
				return nil, fmt.Errorf("placeholders %q and %q are adjacent: their boundary is ambiguous", pieces[n-1].text, name)
			}
			kind := segmentPiece
			if rest {
				kind = restPiece
			}
			pieces = append(pieces, piece{kind, name})
			i += end + 2
		default:
			literal.WriteByte(text[i])
			i++
		}
	}
	if literal.Len() > 0 {
		pieces = append(pieces, piece{literalPiece, literal.String()})
	}
	t := &template{pieces: pieces, slashDelimited: true}
	for i, p := range pieces {
		switch p.kind {
		case segmentPiece:
			if i+1 < len(pieces) && (pieces[i+1].kind != literalPiece || !strings.HasPrefix(pieces[i+1].text, "/")) {
				t.slashDelimited = false
			}
		case restPiece:
			if i+1 != len(pieces) {
				t.slashDelimited = false
			}
		}
	}
	return t, nil
}

// literalPrefix is the text before the first placeholder.
func (t *template) literalPrefix() string {
	if len(t.pieces) > 0 && t.pieces[0].kind == literalPiece {
		return t.pieces[0].text
	}
	return ""
}

func (t *template) matches(name string) bool {
	if t.slashDelimited {
		return matchSlashDelimited(t.pieces, name)
	}
	return matchByPositions(t.pieces, name)
}

// matchesAfterPrefix is matches for a name known to start with the literal prefix
// (the template trie found it there): the rest is matched after it.
func (t *template) matchesAfterPrefix(name string) bool {
	pieces := t.pieces
	if len(pieces) > 0 && pieces[0].kind == literalPiece {
		name, pieces = name[len(pieces[0].text):], pieces[1:]
	}
	if t.slashDelimited {
		return matchSlashDelimited(pieces, name)
	}
	return matchByPositions(pieces, name)
}

func matchSlashDelimited(pieces []piece, name string) bool {
	tail := name
	for _, p := range pieces {
		switch p.kind {
		case literalPiece:
			rest, ok := strings.CutPrefix(tail, p.text)
			if !ok {
				return false
			}
			tail = rest
		case segmentPiece:
			end := strings.IndexByte(tail, '/')
			if end < 0 {
				end = len(tail)
			}
			if end == 0 {
				return false
			}
			tail = tail[end:]
		case restPiece:
			return tail != ""
		}
	}
	return tail == ""
}

// matchByPositions tracks the set of byte offsets reachable after each piece: linear
// in pieces x name length on every input, where backtracking could be exponential. A
// placeholder may end inside a multi-byte character only where nothing can follow (a
// literal starts at a character boundary), so byte offsets give the character answer.
func matchByPositions(pieces []piece, name string) bool {
	var stack [2][128]bool
	var current, next []bool
	if len(name)+1 <= len(stack[0]) {
		current, next = stack[0][:len(name)+1], stack[1][:len(name)+1]
	} else {
		current, next = make([]bool, len(name)+1), make([]bool, len(name)+1)
	}
	current[0] = true
	for _, p := range pieces {
		clear(next)
		any := false
		for at, reachable := range current {
			if !reachable {
				continue
			}
			switch p.kind {
			case literalPiece:
				if strings.HasPrefix(name[at:], p.text) {
					next[at+len(p.text)] = true
					any = true
				}
			case segmentPiece:
				for end := at + 1; end <= len(name) && name[end-1] != '/'; end++ {
					next[end] = true
					any = true
				}
			case restPiece:
				for end := at + 1; end <= len(name); end++ {
					next[end] = true
					any = true
				}
			}
		}
		if !any {
			return false
		}
		current, next = next, current
	}
	return current[len(name)]
}

// glob is a pattern where '*' matches any run of characters and '?' exactly one.
type glob struct {
	pattern []rune
	// starOnly: the pattern has no '?', so it is literal pieces between stars, matched
	// with prefix, suffix and substring searches.
	starOnly bool
	pieces   []string
}

func newGlob(pattern string) glob {
	g := glob{pattern: []rune(pattern), starOnly: !strings.ContainsRune(pattern, '?')}
	if g.starOnly {
		g.pieces = strings.Split(pattern, "*")
	}
	return g
}

// literals are the glob's text before its first wildcard and after its last: every
// text it matches starts and ends with them, byte for byte. A literal holding U+FFFD
// or invalid UTF-8 is given as "" (matchesRunes lets U+FFFD stand for an invalid byte
// of the text, which a byte comparison would not).
func (g glob) literals() (prefix, suffix string) {
	text := string(g.pattern)
	first := strings.IndexAny(text, "*?")
	if first < 0 {
		first = len(text)
	}
	last := strings.LastIndexAny(text, "*?") + 1
	prefix, suffix = text[:first], text[max(last, first):]
	if strings.ContainsRune(prefix, utf8.RuneError) {
		prefix = ""
	}
	if strings.ContainsRune(suffix, utf8.RuneError) {
		suffix = ""
	}
	return prefix, suffix
}

func (g glob) matches(text string) bool {
	if !g.starOnly {
		return g.matchesRunes(text)
	}
	if len(g.pieces) == 1 {
		return text == g.pieces[0]
	}
	// First piece a prefix, last a suffix (not overlapping it), the middle ones in
	// order, each as early as it occurs: leftmost placement never loses a match.
	first, last := g.pieces[0], g.pieces[len(g.pieces)-1]
	if len(text) < len(first)+len(last) || !strings.HasPrefix(text, first) || !strings.HasSuffix(text, last) {
		return false
	}
	middle := text[len(first) : len(text)-len(last)]
	for _, piece := range g.pieces[1 : len(g.pieces)-1] {
		at := strings.Index(middle, piece)
		if at < 0 {
			return false
		}
		middle = middle[at+len(piece):]
	}
	return true
}

// matchesRunes runs the classic greedy matcher with one backtrack point (the last '*'):
// O(pattern x text) at worst, no allocation.
func (g glob) matchesRunes(text string) bool {
	p, t := 0, 0
	starP, starT := -1, 0
	for t < len(text) {
		r, width := utf8.DecodeRuneInString(text[t:])
		if p < len(g.pattern) {
			switch g.pattern[p] {
			case '*':
				starP, starT = p, t
				p++
				continue
			case '?':
				p++
				t += width
				continue
			default:
				if g.pattern[p] == r {
					p++
					t += width
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last '*' swallow one more character and retry after it.
		_, skipped := utf8.DecodeRuneInString(text[starT:])
		starT += skipped
		p, t = starP+1, starT
	}
	for p < len(g.pattern) && g.pattern[p] == '*' {
		p++
	}
	return p == len(g.pattern)
}
