package autoscope

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// lineOfField is the 1-based line where the value at a JSON path such as
// rules[3].action.rate starts in data (valid JSON); where the path ends early (a missing
// field), the line of the deepest value found. Only runs when a check failed.
func lineOfField(data []byte, field string) int {
	decoder := json.NewDecoder(bytes.NewReader(data))
	line := 1
	// valueStart is the line of the next value after the decoder's position (past
	// whitespace, ':' and ',').
	valueStart := func() int {
		at := int(decoder.InputOffset())
		for at < len(data) && strings.IndexByte(" \t\r\n:,", data[at]) >= 0 {
			at++
		}
		return lineOf(data, int64(at))
	}
	line = valueStart()
	for _, step := range pathSteps(field) {
		token, err := decoder.Token()
		if err != nil {
			return line
		}
		delim, _ := token.(json.Delim)
		found := false
		switch {
		case delim == '{' && step.key != "":
			for decoder.More() {
				key, err := decoder.Token()
				if err != nil {
					return line
				}
				if key == step.key {
					found = true
					break
				}
				if skipValue(decoder) != nil {
					return line
				}
			}
		case delim == '[' && step.key == "":
			for i := 0; decoder.More(); i++ {
				if i == step.index {
					found = true
					break
				}
				if skipValue(decoder) != nil {
					return line
				}
			}
		}
		if !found {
			return line
		}
		line = valueStart()
	}
	return line
}

type pathStep struct {
	key   string // "" for an index
	index int
}

// pathSteps splits rules[3].action.rate into rules, 3, action, rate.
func pathSteps(field string) []pathStep {
	var steps []pathStep
	for part := range strings.SplitSeq(field, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			steps = append(steps, pathStep{key: name})
		}
		for rest != "" {
			digits, after, _ := strings.Cut(rest, "]")
			index, err := strconv.Atoi(digits)
			if err != nil {
				return steps
			}
			steps = append(steps, pathStep{index: index})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return steps
}

func skipValue(decoder *json.Decoder) error {
	depth := 0
	for {
		token, err := decoder.Token()
		if err != nil {
			return err
		}
		switch token {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
