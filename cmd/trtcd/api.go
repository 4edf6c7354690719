package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/trtc"
)

func apiCmd() *cobra.Command {
	var endpoint, region, secretID, secretKey, version, service string
	var tf tlsFlags
	cmd := &cobra.Command{
		Use:   "api ACTION [JSON]",
		Short: "Call an API action, signed with TC3-HMAC-SHA256, and print the Response (like tccli)",
		Example: `  trtcd api RemoveUser '{"SdkAppId":1400000001,"RoomId":1234,"UserIds":["test1","test2"]}'
  TENCENTCLOUD_SECRET_ID=… TENCENTCLOUD_SECRET_KEY=… trtcd api DismissRoom '{"SdkAppId":1400000001,"RoomId":1234}' --endpoint https://trtcd.example.com`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageError("api takes an ACTION and at most one JSON argument (got %d arguments)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			body := []byte("{}")
			if len(args) == 2 {
				body = []byte(args[1])
			}
			if !json.Valid(body) {
				return usageError("the JSON argument is not valid JSON")
			}
			return signedCall(cmd.OutOrStdout(), callSpec{endpoint: endpoint, secretID: secretID, secretKey: secretKey,
				service: service, version: version, region: region, action: args[0], body: body, tls: tf})
		},
	}
	f := cmd.Flags()
	f.StringVar(&endpoint, "endpoint", defaultServer, "server URL")
	f.StringVar(&region, "region", trtc.DefaultClientRegion, "region")
	f.StringVar(&secretID, "secret-id", "", "SecretId (default: $TENCENTCLOUD_SECRET_ID, else the development account)")
	f.StringVar(&secretKey, "secret-key", "", "SecretKey (default: $TENCENTCLOUD_SECRET_KEY, else the development account)")
	f.StringVar(&version, "version", trtc.Version, "API version")
	f.StringVar(&service, "service", "trtc", "service name in the credential scope")
	tf.add(cmd)
	return cmd
}

// callSpec is one signed call of a client command.
type callSpec struct {
	endpoint, secretID, secretKey, service, version, region, action string
	body                                                            []byte
	tls                                                             tlsFlags
}

// signedCall signs the call with TC3-HMAC-SHA256 (credentials default to
// TENCENTCLOUD_SECRET_ID/KEY, then the development account), sends it and
// prints the Response; an error answer exits 1.
func signedCall(out io.Writer, c callSpec) error {
	secretID, secretKey, endpoint, body, tf := c.secretID, c.secretKey, c.endpoint, c.body, c.tls
	if secretID == "" {
		secretID = envOr("TENCENTCLOUD_SECRET_ID", config.DevSecretID)
	}
	if secretKey == "" {
		secretKey = envOr("TENCENTCLOUD_SECRET_KEY", config.DevSecretKey)
	}
	if !strings.Contains(endpoint, "://") {
		endpoint = "http://" + endpoint
	}
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil || req.URL.Host == "" || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
		return usageError("--endpoint: %q is not a URL such as %s", endpoint, defaultServer)
	}
	tc, err := tf.config()
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", c.action)
	req.Header.Set("X-TC-Version", c.version)
	if c.region != "" {
		req.Header.Set("X-TC-Region", c.region)
	}
	req.Header.Set("X-TC-RequestClient", "trtcd-cli")
	cloudapi.SignTC3(req, body, secretID, secretKey, c.service, time.Now())
	hc := &http.Client{Timeout: 30 * time.Second}
	if tc != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		hc.Transport = tr
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &exitError{code: exitCannotReach, msg: fmt.Sprintf("cannot reach %s: %v", endpoint, err)}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Response json.RawMessage
	}
	if resp.StatusCode != 200 || json.Unmarshal(raw, &env) != nil || env.Response == nil {
		return &exitError{code: 1, msg: fmt.Sprintf("unexpected answer (HTTP %d): %s", resp.StatusCode, raw)}
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, env.Response, "", "  ")
	fmt.Fprintln(out, pretty.String())
	var probe struct{ Error *struct{ Code string } }
	json.Unmarshal(env.Response, &probe)
	if probe.Error != nil {
		return &exitError{code: 1}
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
