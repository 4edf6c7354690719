package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The example body and Sign printed in docs/callbacks.md verify, a changed
// byte does not, and the handler answers 200 and 401 accordingly.
func TestDocumentedExampleVerifies(t *testing.T) {
	doc, err := os.ReadFile("../../docs/callbacks.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?m)^(\\{\"EventGroupId\".*\\})\nSign: (\\S+)$").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/callbacks.md has no example body and Sign")
	}
	body, sign := string(m[1]), string(m[2])
	if !validSign("testKey", []byte(body), sign) {
		t.Fatal("the documented example does not verify")
	}
	tampered := strings.Replace(body, `"Reason":3`, `"Reason":1`, 1)
	if validSign("testKey", []byte(tampered), sign) {
		t.Fatal("a changed body verifies")
	}
	for _, c := range []struct {
		body string
		want int
	}{{body, http.StatusOK}, {tampered, http.StatusUnauthorized}} {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
		req.Header.Set("Sign", sign)
		rec := httptest.NewRecorder()
		handler("testKey")(rec, req)
		if rec.Code != c.want {
			t.Fatalf("answer %d, want %d", rec.Code, c.want)
		}
	}
}

// docs/callbacks.md shows this program as it is.
func TestDocsShowThisFile(t *testing.T) {
	doc, _ := os.ReadFile("../../docs/callbacks.md")
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```go\n"+string(src)+"```\n") {
		t.Fatal("docs/callbacks.md does not show examples/callback-receiver/main.go as it is")
	}
}
