package config

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// The YAML library reports errors in Go's terms ("cannot unmarshal string
// into Go struct field Config.ClientQueue of type int"). This file turns
// them into the user's: the file, the line, the key path as the file spells
// it (accounts[0].apps[1].sdkappid), and what the value must be.

// tokenError is an error at a place in the file (a yaml.Error, or one of
// ours from Duration).
type tokenError interface {
	GetToken() *token.Token
	GetMessage() string
}

// valueError is a bad value found by one of our own decoders.
type valueError struct {
	tok *token.Token
	msg string
}

func (e *valueError) Error() string          { return e.msg }
func (e *valueError) GetToken() *token.Token { return e.tok }
func (e *valueError) GetMessage() string     { return e.msg }

// keyLines maps each key path in the file to the line it starts on.
type keyLines map[string]int

// fileKeys parses src and records where each key path is; nil when src does
// not parse.
func fileKeys(src []byte) (keyLines, *ast.File) {
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, nil
	}
	lines := keyLines{}
	for _, d := range f.Docs {
		ast.Walk(visitor(func(n ast.Node) {
			p, tk := keyPath(n.GetPath()), n.GetToken()
			if p == "" || tk == nil {
				return
			}
			if l, ok := lines[p]; !ok || tk.Position.Line < l {
				lines[p] = tk.Position.Line
			}
		}), d)
	}
	return lines, f
}

// visitor calls a function on every node but the document itself, whose
// GetToken panics on an empty document.
type visitor func(ast.Node)

func (v visitor) Visit(n ast.Node) ast.Visitor {
	if _, doc := n.(*ast.DocumentNode); !doc && n != nil {
		v(n)
	}
	return v
}

// keyPath turns the library's "$.accounts[0].name" into "accounts[0].name".
func keyPath(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, "$"), ".") }

// pathAt finds the key path of the node at tok's position.
func pathAt(f *ast.File, tok *token.Token) string {
	if f == nil || tok == nil {
		return ""
	}
	found := ""
	for _, d := range f.Docs {
		ast.Walk(visitor(func(n ast.Node) {
			if t := n.GetToken(); found == "" && t != nil && t.Position.Line == tok.Position.Line && t.Position.Column == tok.Position.Column {
				found = keyPath(n.GetPath())
			}
		}), d)
	}
	return found
}

// decodeError describes a decoding error of file path in the user's terms,
// on one line: "config FILE:LINE: KEY: what is wrong".
func decodeError(path string, src []byte, err error) error {
	te, ok := err.(tokenError)
	if !ok {
		first, _, _ := strings.Cut(err.Error(), "\n")
		return fmt.Errorf("config %s: %s", path, strings.TrimSpace(first))
	}
	tok := te.GetToken()
	_, f := fileKeys(src)
	key := pathAt(f, tok)
	var msg string
	switch e := err.(type) {
	case *yaml.TypeError:
		msg = "must be " + kindName(e.DstType)
	case *yaml.OverflowError:
		msg = "is out of range for " + kindName(e.DstType)
	case *yaml.UnexpectedNodeTypeError:
		switch e.Expected {
		case ast.SequenceType:
			msg = "must be a list"
		case ast.MappingType:
			msg = "must be a mapping of keys to values"
		default:
			msg = "must be a single value, not a " + e.Actual.YAMLName()
		}
	case *yaml.UnknownFieldError:
		msg = "unknown key (docs/config.md lists every key)"
	default:
		msg = te.GetMessage()
	}
	where := "config " + path
	if tok != nil {
		where += fmt.Sprintf(":%d", tok.Position.Line)
	}
	if key == "" {
		return fmt.Errorf("%s: %s", where, msg)
	}
	return fmt.Errorf("%s: %s: %s", where, key, msg)
}

// kindName says what a value of Go type t looks like in YAML.
func kindName(t reflect.Type) string {
	if t == nil {
		return "a different kind of value"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a positive integer"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping of keys to values"
	}
	return "a different kind of value"
}
