package cloudapi

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// ParamType is the declared type of an action parameter. It decides how the
// form encoding (UserIds.0=…) is read and which keys are known.
type ParamType int

const (
	Integer ParamType = iota
	String
	StringArray
)

// Param declares one business parameter of an action.
type Param struct {
	Name string
	Type ParamType
}

// Status classifies what a getter found, so that an action can map each case
// to its own error code (MissingParameter.X, InvalidParameter.X, …).
type Status int

const (
	OK         Status = iota
	Missing           // absent, or JSON null
	WrongType         // present but not of the asked type (or a broken array)
	OutOfRange        // an integer, but negative or beyond 64 bits
)

// Params holds an action's business parameters as they arrived: the top-level
// members of a JSON body (TC3 POST) or flat form values (TC3 GET and v1).
type Params struct {
	json map[string]json.RawMessage
	form url.Values
}

func jsonParams(body []byte) (Params, *Error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&m); err != nil || m == nil {
		return Params{}, ErrInvalidParameter("The request body is not a JSON object.")
	}
	if dec.More() {
		return Params{}, ErrInvalidParameter("The request body holds data after its JSON object.")
	}
	return Params{json: m}, nil
}

func formParams(v url.Values) Params { return Params{form: v} }

// raw returns a JSON member with null treated as absent.
func (p Params) raw(name string) (json.RawMessage, bool) {
	r, ok := p.json[name]
	if !ok || string(bytes.TrimSpace(r)) == "null" {
		return nil, false
	}
	return bytes.TrimSpace(r), true
}

// Uint reads an integer parameter. JSON wants a number without fraction or
// exponent; a quoted number is WrongType. A form value wants decimal digits.
func (p Params) Uint(name string) (uint64, Status) {
	var lit string
	if p.json != nil {
		r, ok := p.raw(name)
		if !ok {
			return 0, Missing
		}
		lit = string(r)
	} else {
		vs, ok := p.form[name]
		if !ok {
			if p.hasIndexed(name) {
				return 0, WrongType
			}
			return 0, Missing
		}
		lit = vs[0]
	}
	return parseUint(lit)
}

func parseUint(lit string) (uint64, Status) {
	neg := strings.HasPrefix(lit, "-")
	digits := strings.TrimPrefix(lit, "-")
	if digits == "" {
		return 0, WrongType
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, WrongType
		}
	}
	if neg {
		return 0, OutOfRange
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, OutOfRange
	}
	return n, OK
}

// String reads a string parameter.
func (p Params) String(name string) (string, Status) {
	if p.json != nil {
		r, ok := p.raw(name)
		if !ok {
			return "", Missing
		}
		var s string
		if r[0] != '"' || json.Unmarshal(r, &s) != nil {
			return "", WrongType
		}
		return s, OK
	}
	vs, ok := p.form[name]
	if !ok {
		if p.hasIndexed(name) {
			return "", WrongType
		}
		return "", Missing
	}
	return vs[0], OK
}

// Strings reads an array of strings: a JSON array, or form keys Name.0 … Name.N-1
// with no gaps. Any entry that is not a string makes the whole value WrongType.
func (p Params) Strings(name string) ([]string, Status) {
	if p.json != nil {
		r, ok := p.raw(name)
		if !ok {
			return nil, Missing
		}
		var items []json.RawMessage
		if r[0] != '[' || json.Unmarshal(r, &items) != nil {
			return nil, WrongType
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			var s string
			it = bytes.TrimSpace(it)
			if len(it) == 0 || it[0] != '"' || json.Unmarshal(it, &s) != nil {
				return nil, WrongType
			}
			out = append(out, s)
		}
		return out, OK
	}
	if _, bare := p.form[name]; bare {
		return nil, WrongType
	}
	prefix := name + "."
	byIndex := map[int]string{}
	for k, vs := range p.form {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		idx := k[len(prefix):]
		i, err := strconv.Atoi(idx)
		if err != nil || i < 0 || strconv.Itoa(i) != idx {
			return nil, WrongType
		}
		byIndex[i] = vs[0]
	}
	if len(byIndex) == 0 {
		return nil, Missing
	}
	out := make([]string, len(byIndex))
	for i := range out {
		v, ok := byIndex[i]
		if !ok {
			return nil, WrongType
		}
		out[i] = v
	}
	return out, OK
}

func (p Params) hasIndexed(name string) bool {
	for k := range p.form {
		if strings.HasPrefix(k, name+".") {
			return true
		}
	}
	return false
}

// unknown returns the first parameter (in sorted order, so the answer is
// stable) that neither the action nor the common set defines.
func (p Params) unknown(declared []Param, common map[string]bool) string {
	known := func(name string) bool {
		if common[name] {
			return true
		}
		for _, d := range declared {
			if d.Name == name {
				return true
			}
		}
		return false
	}
	var keys []string
	if p.json != nil {
		for k := range p.json {
			keys = append(keys, k)
		}
	} else {
		for k := range p.form {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		base, _, _ := strings.Cut(k, ".")
		if p.json != nil {
			base = k
		}
		if !known(base) {
			return k
		}
	}
	return ""
}
