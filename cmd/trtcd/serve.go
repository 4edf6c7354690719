package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/node"
)

func serveCmd() *cobra.Command {
	var path string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (no flags: one node, in memory, on " + config.DefaultListen + ", development account)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path, os.Environ())
			if err != nil {
				return &exitError{code: exitUsage, msg: err.Error()}
			}
			log := newLogger(cfg.LogLevel)
			if os.Getenv("GOGC") == "" { // an explicit GOGC wins
				debug.SetGCPercent(cfg.GCPercent)
			}
			// Signals are caught from here on, so that one arriving while
			// the node starts is a graceful stop, not the default exit.
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
			defer signal.Stop(sigs)
			n, err := node.New(cfg, log)
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			if err := n.Start(); err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			scheme := "http"
			if cfg.TLSCert != "" {
				scheme = "https"
			}
			log.Info("trtcd serving", "addr", n.Addr(), "node", cfg.NodeID, "registry", registryName(cfg))
			if path == "" {
				printDevCredentials(scheme, n.Addr())
			}
			select {
			case s := <-sigs:
				log.Info("shutting down", "signal", s.String())
			case err := <-n.Done():
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), grace)
			defer cancel()
			if err := n.Shutdown(ctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			log.Info("stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "YAML config file (see docs/config.md)")
	cmd.Flags().DurationVar(&grace, "shutdown-grace", 20*time.Second, "how long a graceful shutdown may take")
	return cmd
}

func registryName(cfg config.Config) string {
	if cfg.Redis == "" {
		return "memory"
	}
	return "redis"
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// printDevCredentials shows the development account once, on stdout.
func printDevCredentials(scheme, addr string) {
	fmt.Printf(`trtcd development account (DEVELOPMENT ONLY: public values, never use them for anything real)
  endpoint:   %s://%s   (SDK: HttpProfile.Endpoint = %q, Scheme = %q)
  SecretId:   %s
  SecretKey:  %s
  SdkAppId:   %d
  app key:    %s   (UserSig: trtcd usersig --userid alice)
`, scheme, addr, addr, map[string]string{"http": "HTTP", "https": "HTTPS"}[scheme],
		config.DevSecretID, config.DevSecretKey, config.DevSdkAppID, config.DevAppKey)
}
