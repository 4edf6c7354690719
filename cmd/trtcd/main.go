// Command trtcd is a self-hostable room server that speaks Tencent Cloud
// TRTC's server API. This file and its siblings only parse flags and wire
// packages together.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trtcd/trtcd/internal/config"
)

// defaultServer is the URL the client commands connect to by default.
const defaultServer = "http://" + config.DefaultListen

// exitError carries a process exit code up to main.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// exitUsage is the exit status of a command line that cannot be run (a bad
// or missing flag, a bad argument) for every command.
const exitUsage = 2

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// noArgs refuses positional arguments as a usage error.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError("unexpected argument %q", args[0])
	}
	return nil
}

func main() {
	root := &cobra.Command{
		Use:           "trtcd",
		Short:         "A self-hostable room server with Tencent Cloud TRTC's server API",
		Version:       versionLine(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError("%v", err) })
	root.AddCommand(serveCmd(), usersigCmd(), joinCmd(), apiCmd(), benchCmd(), versionCmd(), callbacksCmd(), faultsCmd())
	if err := root.Execute(); err != nil {
		code, msg := 1, err.Error()
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if msg != "" {
			// one "trtcd:" prefix, even when a library put its own
			fmt.Fprintln(os.Stderr, "trtcd:", strings.TrimPrefix(msg, "trtcd: "))
		}
		os.Exit(code)
	}
}
