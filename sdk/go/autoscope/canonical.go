package autoscope

import (
	"math"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
)

// canonicalText is the text rule conditions match an attribute value against: strings
// as they are, ints in decimal, bools true/false, doubles as ECMAScript's
// Number.prototype.toString writes them. ok is false for other types (slices), which
// fail every condition.
func canonicalText(value attribute.Value) (string, bool) {
	switch value.Type() {
	case attribute.STRING:
		return value.AsString(), true
	case attribute.INT64:
		return strconv.FormatInt(value.AsInt64(), 10), true
	case attribute.BOOL:
		if value.AsBool() {
			return "true", true
		}
		return "false", true
	case attribute.FLOAT64:
		return ecmaScriptNumber(value.AsFloat64()), true
	}
	return "", false
}

// ecmaScriptNumber writes x as ECMA-262 Number::toString (radix 10) does.
func ecmaScriptNumber(x float64) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case x == 0:
		return "0"
	case math.IsInf(x, 1):
		return "Infinity"
	case math.IsInf(x, -1):
		return "-Infinity"
	}
	// 'e' with precision -1 gives the shortest digits that read back: d[.ddd]e±xx.
	var scratch [32]byte
	sci := strconv.AppendFloat(scratch[:0], math.Abs(x), 'e', -1, 64)
	var digits []byte
	exponent := 0
	for i := 0; i < len(sci); i++ {
		c := sci[i]
		if c == 'e' {
			e, err := strconv.Atoi(string(sci[i+1:]))
			if err == nil {
				exponent = e
			}
			break
		}
		if c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	k := len(digits)
	n := exponent + 1
	out := make([]byte, 0, 32)
	if x < 0 {
		out = append(out, '-')
	}
	switch {
	case k <= n && n <= 21:
		out = append(out, digits...)
		for range n - k {
			out = append(out, '0')
		}
	case 0 < n && n <= 21:
		out = append(out, digits[:n]...)
		out = append(out, '.')
		out = append(out, digits[n:]...)
	case -6 < n && n <= 0:
		out = append(out, '0', '.')
		for range -n {
			out = append(out, '0')
		}
		out = append(out, digits...)
	default:
		out = append(out, digits[0])
		if k > 1 {
			out = append(out, '.')
			out = append(out, digits[1:]...)
		}
		out = append(out, 'e')
		if n-1 < 0 {
			out = append(out, '-')
			out = strconv.AppendInt(out, int64(1-n), 10)
		} else {
			out = append(out, '+')
			out = strconv.AppendInt(out, int64(n-1), 10)
		}
	}
	return string(out)
}
