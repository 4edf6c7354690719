package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/trtcd/trtcd/internal/callbacks"
	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/config"
)

func callbacksCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "callbacks",
		Short: "Event callbacks: a receiver for development, the dead-letter list (docs/callbacks.md)",
	}
	cmd.AddCommand(listenCmd(), deadletterCmd(), sendCmd())
	return cmd
}

// listenMaxBody bounds what the development receiver reads of a request.
const listenMaxBody = 1 << 20

func listenCmd() *cobra.Command {
	var addr, key string
	var failFor time.Duration
	var status int
	cmd := &cobra.Command{
		Use:   "listen --addr HOST:PORT [--key K] [--fail-for D] [--status CODE]",
		Short: "Receive callbacks: check Sign, print each body as one JSON line, optionally fail",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !config.ValidCallbackKey(key) {
				return &exitError{code: 2, msg: fmt.Sprintf("--key must be at most %d characters of A-Z a-z 0-9", config.MaxCallbackKeyLen)}
			}
			if status < 100 || status > 599 {
				return &exitError{code: 2, msg: "--status must be an HTTP status code (100-599)"}
			}
			if failFor < 0 {
				return &exitError{code: 2, msg: "--fail-for must not be negative"}
			}
			// --status alone fails every request; with --fail-for, only those in that time.
			alwaysFail := cmd.Flags().Changed("status") && !cmd.Flags().Changed("fail-for")
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return &exitError{code: 2, msg: "--addr: " + err.Error()}
			}
			started := time.Now()
			failing := func() bool { return alwaysFail || time.Since(started) < failFor }
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			var mu sync.Mutex // one line at a time
			logf := func(format string, args ...any) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(errOut, "trtcd callbacks listen: "+format+"\n", args...)
			}
			srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost {
					http.Error(w, "POST only", http.StatusMethodNotAllowed)
					return
				}
				body, err := io.ReadAll(io.LimitReader(r.Body, listenMaxBody+1))
				if err != nil || len(body) > listenMaxBody {
					logf("unreadable or oversized body from %s: answered 400", r.RemoteAddr)
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				id := r.Header.Get(callbacks.HeaderEventID)
				if !hmac.Equal([]byte(r.Header.Get("Sign")), []byte(callbacks.Sign(key, body))) {
					logf("wrong Sign (SdkAppId %q, event %q, %d bytes): answered 401", r.Header.Get("SdkAppId"), id, len(body))
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				if failing() {
					logf("failing on purpose (event %q, attempt %s): answered %d", id, r.Header.Get(callbacks.HeaderAttempt), status)
					w.WriteHeader(status)
					return
				}
				var line bytes.Buffer
				if err := json.Compact(&line, body); err != nil {
					logf("body is not JSON (event %q): answered 400", id)
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				line.WriteByte('\n')
				mu.Lock()
				out.Write(line.Bytes())
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"code":0}`))
			})}
			logf("listening on http://%s", ln.Addr())
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
			defer signal.Stop(sigs)
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case <-sigs:
			case err := <-errc:
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:9000", "HOST:PORT to listen on")
	cmd.Flags().StringVar(&key, "key", "", "the app's callback key (Sign is checked with it; empty: the empty key)")
	cmd.Flags().DurationVar(&failFor, "fail-for", 0, "answer --status instead of 200 for this long after start")
	cmd.Flags().IntVar(&status, "status", http.StatusInternalServerError, "the status of a failing answer (alone: fail every request)")
	return cmd
}

// storeFlags resolve the store: --data-dir, else the config's: its redis in
// cluster mode (the cluster's shared outbox), else its data_dir.
type storeFlags struct{ config, dataDir string }

func (f *storeFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.config, "config", "", "YAML config file whose data_dir holds the store")
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "", "the data directory (default: data_dir of the config, "+config.DefaultDataDir+")")
}

func (f *storeFlags) open() (callbacks.Outbox, error) {
	dir := f.dataDir
	if dir == "" {
		cfg, err := config.Load(f.config, os.Environ())
		if err != nil {
			return nil, &exitError{code: 2, msg: err.Error()}
		}
		if cfg.Redis != "" {
			rdb, err := cluster.NewClient(cfg.Redis)
			if err != nil {
				return nil, &exitError{code: 2, msg: "config: redis: " + err.Error()}
			}
			return callbacks.NewRedisStore(rdb, "", "", rdb.Close), nil
		}
		dir = cfg.DataDir
	}
	if _, err := os.Stat(filepath.Join(dir, callbacks.StoreFile)); err != nil {
		return nil, &exitError{code: 1, msg: fmt.Sprintf("no callback store in %s (%v)", dir, err)}
	}
	st, err := callbacks.OpenStore(dir)
	if err != nil {
		return nil, &exitError{code: 1, msg: err.Error()}
	}
	return st, nil
}

func deadletterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deadletter",
		Short: "Inspect and replay callbacks that were not delivered within the retry horizon",
	}
	var lf storeFlags
	var listApp uint64
	list := &cobra.Command{
		Use:   "list [--config F | --data-dir D] [--sdkappid N]",
		Short: "Print the dead letters as JSON lines, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := lf.open()
			if err != nil {
				return err
			}
			defer st.Close()
			dl, err := st.DeadLetters(callbacks.DeadFilter{App: listApp})
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			for _, d := range dl {
				enc.Encode(d)
			}
			return nil
		},
	}
	lf.add(list)
	list.Flags().Uint64Var(&listApp, "sdkappid", 0, "only this app's")

	var rf storeFlags
	var all bool
	var replayApp uint64
	var ids []string
	replay := &cobra.Command{
		Use:   "replay [--config F | --data-dir D] (--all | --sdkappid N | --id ID,...)",
		Short: "Put dead letters back in the outbox with a fresh retry horizon",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := callbacks.DeadFilter{App: replayApp}
			for _, s := range ids {
				id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
				if err != nil || id <= 0 {
					return &exitError{code: 2, msg: fmt.Sprintf("--id: %q is not a dead-letter id", s)}
				}
				f.IDs = append(f.IDs, id)
			}
			if !all && f.App == 0 && len(f.IDs) == 0 {
				return &exitError{code: 2, msg: "say which: --all, --sdkappid N or --id ID,..."}
			}
			st, err := rf.open()
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.Replay(cmd.Context(), f)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "replayed %d\n", n)
			return nil
		},
	}
	rf.add(replay)
	replay.Flags().BoolVar(&all, "all", false, "every dead letter")
	replay.Flags().Uint64Var(&replayApp, "sdkappid", 0, "this app's dead letters")
	replay.Flags().StringSliceVar(&ids, "id", nil, "these dead letters (ids from list)")
	cmd.AddCommand(list, replay)
	return cmd
}

// sendCmd runs a sender fed with events as JSON lines on stdin: for tests
// (a process to kill) and for trying a receiver without clients.
func sendCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:    "send --config F < events.jsonl",
		Short:  "Deliver room events read as JSON lines from stdin; runs until SIGINT/SIGTERM",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path, os.Environ())
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			cfg.Redis = "" // one process, its own data_dir
			s, err := callbacks.Open(cfg, "", newLogger(cfg.LogLevel))
			if err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			ran := make(chan struct{})
			go func() { s.Run(ctx); close(ran) }()
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			go func() { // stdin may stay open: the signal ends the command
				in := bufio.NewScanner(cmd.InOrStdin())
				in.Buffer(make([]byte, 64<<10), 1<<20)
				for in.Scan() {
					var ev callbacks.Event
					if err := json.Unmarshal(in.Bytes(), &ev); err != nil {
						fmt.Fprintf(errOut, "trtcd callbacks send: bad event line: %v\n", err)
						continue
					}
					if err := s.Handle(ctx, ev); err != nil {
						fmt.Fprintf(errOut, "trtcd callbacks send: %v\n", err)
						stop()
						return
					}
					fmt.Fprintf(out, "accepted %s %d\n", ev.Room, ev.Seq)
				}
			}()
			<-ctx.Done()
			err = s.Close()
			<-ran
			return err
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "YAML config file with the apps' callbacks")
	return cmd
}
