package autoscope

import (
	"math"
	"strings"
)

// Consistent probability sampling as OpenTelemetry specifies it ("TraceState:
// Probability Sampling"): a span is kept iff the trace's 56 bits of randomness R reach
// the rule's rejection threshold T, so every service and SDK keeps or drops a trace
// alike. The exact rules are those of conformance/README.md (section 2 to 4).

const (
	randomnessBits = 56
	// never is 2^56, the threshold that keeps nothing.
	never     uint64 = 1 << randomnessBits
	hexDigits        = 14
)

func fnv1a64(bytes []byte) uint64 {
	hash := uint64(0xcbf29ce484222325)
	for _, b := range bytes {
		hash ^= uint64(b)
		hash *= 0x100000001b3
	}
	return hash
}

// fmix64 is MurmurHash3's 64-bit finalizer.
func fmix64(hash uint64) uint64 {
	hash ^= hash >> 33
	hash *= 0xff51afd7ed558ccd
	hash ^= hash >> 33
	hash *= 0xc4ceb9fe1a85ec53
	return hash ^ (hash >> 33)
}

func hexValue(digit byte) (byte, bool) {
	switch {
	case digit >= '0' && digit <= '9':
		return digit - '0', true
	case digit >= 'a' && digit <= 'f':
		return digit - 'a' + 10, true
	case digit >= 'A' && digit <= 'F':
		return digit - 'A' + 10, true
	}
	return 0, false
}

// decodeHex decodes len(out)*2 hex digits of either case into out.
func decodeHex(text []byte, out []byte) bool {
	for i := range out {
		high, ok1 := hexValue(text[2*i])
		low, ok2 := hexValue(text[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		out[i] = high<<4 | low
	}
	return true
}

// low56 is the big-endian value of the last 7 bytes of b (at least 7 long).
func low56(b []byte) uint64 {
	var value uint64
	for _, x := range b[len(b)-7:] {
		value = value<<8 | uint64(x)
	}
	return value
}

// traceRandomness is R from the trace id bytes alone: the low 56 bits of a 16-byte
// (W3C) or 8-byte id, hex text of either decoded first, and a documented hash of any
// other id.
func traceRandomness(id []byte) uint64 {
	switch len(id) {
	case 32:
		var decoded [16]byte
		if decodeHex(id, decoded[:]) {
			return low56(decoded[:])
		}
	case 16:
		var decoded [8]byte
		if decodeHex(id, decoded[:]) {
			return low56(decoded[:])
		}
		return low56(id)
	case 8:
		return low56(id)
	}
	return fmix64(fnv1a64(id)) >> (64 - randomnessBits)
}

// explicitRv is the rv of an ot tracestate value: ok when the first rv part is exactly
// 14 lowercase hex digits (a malformed rv is ignored, as if absent).
func explicitRv(ot string) (uint64, bool) {
	for len(ot) > 0 {
		part := ot
		if i := strings.IndexByte(ot, ';'); i >= 0 {
			part, ot = ot[:i], ot[i+1:]
		} else {
			ot = ""
		}
		key, value, found := strings.Cut(part, ":")
		if !found || key != "rv" {
			continue
		}
		if len(value) != hexDigits {
			return 0, false
		}
		var r uint64
		for i := 0; i < len(value); i++ {
			d := value[i]
			switch {
			case d >= '0' && d <= '9':
				r = r<<4 | uint64(d-'0')
			case d >= 'a' && d <= 'f':
				r = r<<4 | uint64(d-'a'+10)
			default:
				return 0, false
			}
		}
		return r, true
	}
	return 0, false
}

// randomnessFromOt is R given the value of the tracestate's ot member ("" for none).
func randomnessFromOt(id []byte, ot string) uint64 {
	if r, ok := explicitRv(ot); ok {
		return r
	}
	return traceRandomness(id)
}

// otValue is the value of the first member keyed ot of a W3C tracestate header.
func otValue(header string) string {
	for len(header) > 0 {
		member := header
		if i := strings.IndexByte(header, ','); i >= 0 {
			member, header = header[:i], header[i+1:]
		} else {
			header = ""
		}
		member = strings.Trim(member, " \t")
		if key, value, found := strings.Cut(member, "="); found && key == "ot" {
			return value
		}
	}
	return ""
}

// threshold is T for a sample rate: (1 - p) * 2^56 in binary64, rounded half up and
// clamped to [0, 2^56]; a NaN rate keeps nothing.
func threshold(rate float64) uint64 {
	x := (1.0 - rate) * float64(never)
	if math.IsNaN(x) || x >= float64(never) {
		return never
	}
	if x <= 0 {
		return 0
	}
	floor := math.Floor(x)
	t := uint64(floor)
	if x-floor >= 0.5 {
		t++
	}
	return min(t, never)
}

// adjustedCount is how many spans a span kept at threshold t stands for.
func adjustedCount(t uint64) float64 {
	if t >= never {
		return 0
	}
	return float64(never) / float64(never-t)
}

// encodeTh is t as OpenTelemetry's th value: 14 lowercase hex digits without trailing
// zeros ("0" for t = 0); "" for t = 2^56, which has no th.
func encodeTh(t uint64) string {
	if t >= never {
		return ""
	}
	const digits = "0123456789abcdef"
	var out [hexDigits]byte
	for i := range out {
		out[i] = digits[(t>>(4*(hexDigits-1-i)))&0xf]
	}
	end := hexDigits
	for end > 1 && out[end-1] == '0' {
		end--
	}
	return string(out[:end])
}
