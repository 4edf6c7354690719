package main

import (
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/trtcd/trtcd/internal/devtools"
)

// faultsCmd sets, lists and clears injected faults through the signed admin
// actions CreateFault, DescribeFaults and DeleteFaults (docs/devtools.md).
func faultsCmd() *cobra.Command {
	var endpoint, secretID, secretKey string
	var tf tlsFlags
	call := func(cmd *cobra.Command, action string, params map[string]any) error {
		body, _ := json.Marshal(params)
		return signedCall(cmd.OutOrStdout(), callSpec{endpoint: endpoint, secretID: secretID, secretKey: secretKey,
			service: devtools.AdminService, version: devtools.AdminVersion, action: action, body: body, tls: tf})
	}
	root := &cobra.Command{
		Use:   "faults set|list|clear",
		Short: "Inject API answers for testing error handling: the next N calls of an action, or a share of them, answer a code, or are delayed",
		Example: `  trtcd faults set --action RemoveUser --code InternalError --count 1
  trtcd faults set --action DismissRoom --code RequestLimitExceeded --percent 30 --ttl 1h
  trtcd faults set --action RemoveUser --latency 500ms
  trtcd faults list
  trtcd faults clear [--id f1]`,
		Args: cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError("unknown faults command %q (want set, list or clear)", args[0])
			}
			return usageError("faults needs a command: set, list or clear")
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&endpoint, "endpoint", defaultServer, "server URL")
	pf.StringVar(&secretID, "secret-id", "", "SecretId (default: $TENCENTCLOUD_SECRET_ID, else the development account)")
	pf.StringVar(&secretKey, "secret-key", "", "SecretKey (default: $TENCENTCLOUD_SECRET_KEY, else the development account)")
	pf.StringVar(&tf.caCert, "cacert", "", "PEM file of the CA (or self-signed certificate) to trust for https://")
	pf.BoolVar(&tf.insecure, "insecure", false, "do not verify the server's certificate (testing only)")

	var action, code, message string
	var count, percent int
	var latency, ttl time.Duration
	set := &cobra.Command{
		Use:   "set --action ACTION (--code CODE | --latency D) [--count N | --percent P] [--ttl D] [--message M]",
		Short: "Set a fault for the signed-in account; it expires after --ttl (default 10m)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if action == "" {
				return usageError("--action is required")
			}
			if code == "" && latency == 0 {
				return usageError("give --code, --latency or both")
			}
			if latency < 0 || latency%time.Millisecond != 0 || ttl < 0 || ttl%time.Second != 0 {
				return usageError("--latency must be whole milliseconds and --ttl whole seconds, not negative")
			}
			p := map[string]any{"Action": action}
			for k, v := range map[string]string{"Code": code, "Message": message} {
				if v != "" {
					p[k] = v
				}
			}
			for k, v := range map[string]int64{"Count": int64(count), "Percent": int64(percent), "LatencyMs": latency.Milliseconds(), "TtlSeconds": int64(ttl / time.Second)} {
				if v != 0 {
					p[k] = v
				}
			}
			return call(cmd, "CreateFault", p)
		},
	}
	f := set.Flags()
	f.StringVar(&action, "action", "", "the action whose calls to fault, e.g. RemoveUser")
	f.StringVar(&code, "code", "", "the error code to answer, e.g. InternalError")
	f.StringVar(&message, "message", "", "the error message (default: one naming the fault)")
	f.IntVar(&count, "count", 0, "fault only the next N calls")
	f.IntVar(&percent, "percent", 0, "fault this percentage of calls (1-100)")
	f.DurationVar(&latency, "latency", 0, "add this latency before answering, e.g. 500ms")
	f.DurationVar(&ttl, "ttl", 0, "expire after this long (default 10m, at most 24h)")

	list := &cobra.Command{Use: "list", Short: "List the account's faults", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return call(cmd, "DescribeFaults", map[string]any{}) }}
	var id string
	clear := &cobra.Command{Use: "clear [--id ID]", Short: "Clear one fault, or all of the account's faults", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := map[string]any{}
			if id != "" {
				p["FaultId"] = id
			}
			return call(cmd, "DeleteFaults", p)
		}}
	clear.Flags().StringVar(&id, "id", "", "the fault to clear (default: all)")
	root.AddCommand(set, list, clear)
	return root
}
