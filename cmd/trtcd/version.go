package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the release, set at build time:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/trtcd
var version = "dev"

// versionLine is what `trtcd version` and `trtcd --version` print: the
// version, the commit the binary was built from (from the Go toolchain's VCS
// stamp; "unknown" outside a git checkout, "-dirty" with uncommitted
// changes) and the Go version.
func versionLine() string {
	commit, dirty := "unknown", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision":
				commit = s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = "-dirty"
			}
		}
	}
	return fmt.Sprintf("trtcd %s (commit %s%s, %s)", version, commit, dirty, runtime.Version())
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  noArgs,
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), versionLine()) },
	}
}
