// Command trtcd is a self-hostable room server that speaks Tencent Cloud
// TRTC's server API. This file and its siblings only parse flags and wire
// packages together.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code up to main.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	root := &cobra.Command{
		Use:           "trtcd",
		Short:         "A self-hostable room server with Tencent Cloud TRTC's server API",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), usersigCmd(), joinCmd(), apiCmd(), benchCmd(), callbacksCmd())
	if err := root.Execute(); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, "trtcd:", ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "trtcd:", err)
		os.Exit(1)
	}
}
