package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/usersig"
)

// Exit codes of `trtcd join`.
const (
	exitJoinRefused = 2
	exitKicked      = 3
)

func joinCmd() *cobra.Command {
	var p client.JoinParams
	var server, key string
	cmd := &cobra.Command{
		Use:   "join --userid U (--roomid N | --strroomid S) [--usersig SIG | --key K]",
		Short: "Join a room and print its events as JSON lines until left or kicked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (p.RoomID == 0) == (p.StrRoomID == "") {
				return &exitError{code: exitJoinRefused, msg: "give exactly one of --roomid and --strroomid"}
			}
			if p.UserSig == "" {
				p.UserSig = usersig.Generate(p.SdkAppID, key, p.UserID, 24*time.Hour, time.Now(), nil)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, err := client.Join(ctx, server, p, client.Options{})
			cancel()
			if err != nil {
				var ce *client.Error
				if errors.As(err, &ce) {
					return &exitError{code: exitJoinRefused, msg: fmt.Sprintf("join refused: %s: %s", ce.Code, ce.Message)}
				}
				return &exitError{code: exitJoinRefused, msg: "join failed: " + err.Error()}
			}
			out := json.NewEncoder(cmd.OutOrStdout())
			joined := c.Joined()
			if joined.Members == nil {
				joined.Members = []client.Member{}
			}
			out.Encode(printable(joined))
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
			defer signal.Stop(sigs)
			for {
				select {
				case ev, ok := <-c.Events():
					if !ok {
						err := c.Err()
						c.Close()
						if errors.Is(err, client.ErrKicked) {
							return &exitError{code: exitKicked}
						}
						return &exitError{code: 1, msg: fmt.Sprintf("connection lost: %v", err)}
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
	f.StringVar(&server, "server", "http://127.0.0.1:8080", "server URL")
	f.Uint64Var(&p.SdkAppID, "sdkappid", config.DevSdkAppID, "SdkAppId")
	f.StringVar(&p.UserID, "userid", "", "UserId")
	f.StringVar(&p.UserSig, "usersig", "", "UserSig (default: made from --key)")
	f.StringVar(&key, "key", config.DevAppKey, "the app's UserSig key, to make a UserSig")
	f.StringVar(&p.PrivateMapKey, "privatemapkey", "", "optional PrivateMapKey")
	f.Uint64Var(&p.RoomID, "roomid", 0, "numeric room id")
	f.StringVar(&p.StrRoomID, "strroomid", "", "string room id")
	f.StringVar(&p.Role, "role", "anchor", "anchor or audience")
	return cmd
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
