package cloudapi

import "fmt"

// Limits on the JSON body of an API call, checked in one pass before it is
// decoded (policy: parameter decoding limits). Actions' own limits are far
// smaller (RemoveUser takes at most 10 UserIds); these stop a body from
// costing far more to decode than any action could use: a signed RemoveUser
// with two million UserIds is refused after reading about a thousand.
const (
	MaxParamElements = 1000  // elements of one array, or members of one object
	MaxParamDepth    = 10    // nesting of arrays and objects, the body's object included
	MaxParamValues   = 10000 // values in the whole body, object keys included
)

type shapeLimits struct{ elements, depth, values int }

var paramLimits = shapeLimits{MaxParamElements, MaxParamDepth, MaxParamValues}

// checkShape scans body once without allocating, counting values, the
// elements of each array and object, and nesting, and stops at the first
// limit passed with an InvalidParameter naming the top-level parameter in
// which it was passed. scanned is the number of values seen, for tests. It
// does not validate the JSON: the decoder that runs afterwards does, and
// anything it cannot make sense of it leaves to that decoder.
func checkShape(body []byte, lim shapeLimits) (scanned int, e *Error) {
	var (
		elems   [MaxParamDepth + 1]int // commas seen in each open container
		depth   int
		topObj  bool // the outermost container is an object
		wantKey bool // the next string is a top-level key
		key     [2]int
	)
	where := func() string {
		if key[1] == 0 {
			return "The request body"
		}
		return "The parameter `" + Clip(string(body[key[0]:key[1]])) + "`"
	}
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case ' ', '\t', '\n', '\r', ':':
		case ',':
			if depth == 0 {
				return scanned, nil
			}
			elems[depth]++
			if elems[depth] >= lim.elements {
				if depth == 1 {
					return scanned, ErrInvalidParameter(fmt.Sprintf("The request body has more than %d parameters.", lim.elements))
				}
				return scanned, ErrInvalidParameter(fmt.Sprintf("%s has more than %d elements in one array or object.", where(), lim.elements))
			}
			wantKey = depth == 1 && topObj
		case '}', ']':
			if depth == 0 {
				return scanned, nil
			}
			depth--
		default:
			scanned++
			if scanned > lim.values {
				return scanned, ErrInvalidParameter(fmt.Sprintf("%s has more than %d values.", where(), lim.values))
			}
			switch c {
			case '{', '[':
				if depth >= lim.depth || depth >= MaxParamDepth {
					return scanned, ErrInvalidParameter(fmt.Sprintf("%s nests arrays and objects more than %d deep.", where(), lim.depth))
				}
				depth++
				elems[depth] = 0
				if depth == 1 {
					topObj, wantKey = c == '{', c == '{'
				}
			case '"':
				start := i + 1
				for i++; i < len(body) && body[i] != '"'; i++ {
					if body[i] == '\\' {
						i++
					}
				}
				if wantKey {
					key = [2]int{start, min(i, len(body))}
					wantKey = false
				}
			default: // a number or a literal: skip to its end
				for i+1 < len(body) && !isDelim(body[i+1]) {
					i++
				}
			}
		}
	}
	return scanned, nil
}

func isDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ':', '[', ']', '{', '}', '"':
		return true
	}
	return false
}
