package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/spf13/cobra"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/client/media"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/usersig"
)

// Exit codes of `trtcd join` (README, "Exit codes"). 0 is a normal leave
// on SIGINT/SIGTERM.
const (
	exitConnLost    = 1 // the connection ended without a kick or a leave
	exitJoinRefused = 2 // the server refused the join (also: a usage error, exitUsage)
	exitKicked      = 3 // removed, dismissed, or replaced by the same user elsewhere
	exitCannotReach = 4 // could not connect: nothing listening, TLS, not a trtcd WebSocket
)

func joinCmd() *cobra.Command {
	var p client.JoinParams
	var server, key string
	var tf tlsFlags
	var mf mediaFlags
	cmd := &cobra.Command{
		Use:   "join --userid U (--roomid N | --strroomid S) [--usersig SIG | --key K]",
		Short: "Join a room and print its events as JSON lines until left or kicked",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The command line is checked before anything is sent.
			switch {
			case p.UserID == "":
				return usageError("--userid is required")
			case !rooms.ValidUserID(p.UserID):
				return usageError("--userid must be 1-32 characters of A-Z a-z 0-9 _ -")
			case (p.RoomID == 0) == (p.StrRoomID == ""):
				return usageError("give exactly one of --roomid and --strroomid")
			}
			if err := checkServerURL(server); err != nil {
				return err
			}
			tc, err := tf.config()
			if err != nil {
				return err
			}
			nets, err := mf.networks()
			if err != nil {
				return err
			}
			if p.UserSig == "" {
				p.UserSig = usersig.Generate(p.SdkAppID, key, p.UserID, 24*time.Hour, time.Now(), nil)
			}
			// What the server records about this client (history, callbacks).
			p.Device, p.SdkVersion = runtime.GOOS+"/"+runtime.GOARCH, "trtcd-join "+version
			// Signals are caught before the joined line is printed, so that
			// whoever reads it may interrupt at once and get a clean leave.
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
			defer signal.Stop(sigs)
			opt := client.Options{}
			if tc != nil {
				d := *websocket.DefaultDialer
				d.TLSClientConfig = tc
				opt.Dialer = &d
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, err := client.Join(ctx, server, p, opt)
			cancel()
			if err != nil {
				var ce *client.Error
				var de *client.DialError
				switch {
				case errors.As(err, &ce):
					return &exitError{code: exitJoinRefused, msg: fmt.Sprintf("join refused: %s: %s", ce.Code, ce.Message)}
				case errors.As(err, &de):
					return &exitError{code: exitCannotReach, msg: fmt.Sprintf("cannot connect to %s: %v", de.URL, de.Err)}
				}
				return &exitError{code: exitConnLost, msg: "connection lost during the join: " + strings.TrimPrefix(err.Error(), "trtcd: ")}
			}
			out := json.NewEncoder(cmd.OutOrStdout())
			joined := c.Joined()
			if joined.Members == nil {
				joined.Members = []client.Member{}
			}
			out.Encode(printable(joined))
			users := map[string]bool{}
			for _, m := range joined.Members {
				users[m.UserID] = true
			}
			var tick <-chan time.Time
			var mc *media.Client
			published := make(chan map[string]any, 1)
			if mf.publish || mf.receive > 0 {
				if mc, err = c.Media(client.MediaOptions{Networks: nets}); err != nil {
					c.Close()
					return &exitError{code: exitConnLost, msg: "media: " + err.Error()}
				}
				if mf.publish {
					go func() { published <- publishSynthetic(mc) }()
				}
				if mf.receive > 0 {
					t := time.NewTicker(mf.receive)
					defer t.Stop()
					tick = t.C
				}
			}
			for {
				select {
				case line := <-published:
					out.Encode(line)
				case <-tick:
					out.Encode(received(mc, users, p.UserID))
				case ev, ok := <-c.Events():
					if !ok {
						err := c.Err()
						c.Close()
						if errors.Is(err, client.ErrKicked) {
							return &exitError{code: exitKicked}
						}
						return &exitError{code: exitConnLost, msg: "connection lost: " + strings.TrimPrefix(fmt.Sprint(err), "trtcd: ")}
					}
					if ev.Type == "user_entered" {
						users[ev.UserID] = true
					}
					out.Encode(printable(ev))
				case <-sigs:
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					return c.Leave(ctx)
				}
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", defaultServer, "server URL")
	f.Uint64Var(&p.SdkAppID, "sdkappid", config.DevSdkAppID, "SdkAppId")
	f.StringVar(&p.UserID, "userid", "", "UserId")
	f.StringVar(&p.UserSig, "usersig", "", "UserSig (default: made from --key)")
	f.StringVar(&key, "key", config.DevAppKey, "the app's UserSig key, to make a UserSig")
	f.StringVar(&p.PrivateMapKey, "privatemapkey", "", "optional PrivateMapKey")
	f.Uint64Var(&p.RoomID, "roomid", 0, "numeric room id")
	f.StringVar(&p.StrRoomID, "strroomid", "", "string room id")
	f.StringVar(&p.Role, "role", "anchor", "anchor or audience")
	tf.add(cmd)
	mf.add(cmd)
	return cmd
}

// checkServerURL refuses a --server or --endpoint that is not an http(s)
// or ws(s) URL with a host, before any connection is tried.
func checkServerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return usageError("--server: %q is not a URL such as %s", s, defaultServer)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
		return nil
	}
	return usageError("--server: scheme %q is not http, https, ws or wss", u.Scheme)
}

// printable is the JSON line for an event: the fields of its type only.
func printable(e client.Event) map[string]any {
	m := map[string]any{"type": e.Type}
	switch e.Type {
	case "joined":
		m["members"], m["sessionId"] = e.Members, e.SessionID
	case "user_entered":
		m["userId"], m["role"] = e.UserID, e.Role
	case "user_left":
		m["userId"], m["role"], m["reason"] = e.UserID, e.Role, e.Reason
	case "kicked":
		m["reason"] = e.Reason
	case "user_blocked":
		m["userId"], m["audio"], m["video"] = e.UserID, e.Audio != nil && *e.Audio, e.Video != nil && *e.Video
	}
	if e.RoomID != 0 {
		m["roomId"] = e.RoomID
	} else if e.StrRoomID != "" {
		m["strRoomId"] = e.StrRoomID
	}
	if e.Seq != 0 {
		m["seq"] = e.Seq
	}
	return m
}
