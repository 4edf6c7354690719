package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/usersig"
)

func usersigCmd() *cobra.Command {
	var app uint64
	var key, user string
	var expire int64
	cmd := &cobra.Command{
		Use:   "usersig --userid U [--sdkappid N --key K] [--expire SECONDS]",
		Short: "Print a UserSig (default: the development app)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !rooms.ValidUserID(user) {
				return usageError("--userid must be 1-32 characters of A-Z a-z 0-9 _ -")
			}
			if expire <= 0 || expire > usersig.MaxExpire {
				return usageError("--expire must be a number of seconds from 1 to %d", int64(usersig.MaxExpire))
			}
			fmt.Fprintln(cmd.OutOrStdout(), usersig.Generate(app, key, user, time.Duration(expire)*time.Second, time.Now(), nil))
			return nil
		},
	}
	cmd.Flags().Uint64Var(&app, "sdkappid", config.DevSdkAppID, "SdkAppId")
	cmd.Flags().StringVar(&key, "key", config.DevAppKey, "the app's UserSig secret key")
	cmd.Flags().StringVar(&user, "userid", "", "UserId (required)")
	cmd.Flags().Int64Var(&expire, "expire", 86400*180, "lifetime in seconds")
	return cmd
}
