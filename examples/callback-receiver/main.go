// Command callback-receiver is the smallest backend endpoint for trtcd's (and
// TRTC's) room event callbacks: it checks Sign over the raw body, then
// parses the event. docs/callbacks.md shows this file.
//
//	CALLBACK_KEY=MyCallbackKey1 go run ./examples/callback-receiver -addr 127.0.0.1:9000
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
)

// validSign reports whether sign is the standard base64 of HMAC-SHA256 of
// the exact body bytes with the app's callback key.
func validSign(key string, body []byte, sign string) bool {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(sign))
}

type callback struct {
	EventGroupId int
	EventType    int
	CallbackTs   int64
	EventInfo    struct {
		RoomId    json.RawMessage // a number for numeric rooms, a string for string rooms
		EventTs   int64
		EventMsTs int64
		UserId    string
		Role      int
		Reason    int
	}
}

func handler(key string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil || !validSign(key, body, r.Header.Get("Sign")) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var cb callback
		if err := json.Unmarshal(body, &cb); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		// Deliveries are at least once: X-Trtcd-Event-Id is the same for every
		// attempt of one event, so a receiver that must not act twice keeps it.
		log.Printf("event %d room %s user %q reason %d (id %s)", cb.EventType, cb.EventInfo.RoomId,
			cb.EventInfo.UserId, cb.EventInfo.Reason, r.Header.Get("X-Trtcd-Event-Id"))
		w.WriteHeader(http.StatusOK) // anything else, or no answer within 5 s, is retried
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	flag.Parse()
	log.Fatal(http.ListenAndServe(*addr, handler(os.Getenv("CALLBACK_KEY"))))
}
