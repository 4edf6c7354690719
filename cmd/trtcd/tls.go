package main

import (
	"crypto/tls"
	"crypto/x509"
	"os"

	"github.com/spf13/cobra"
)

// tlsFlags are the client-side TLS options of `api` and `join`, for servers
// with a self-signed or private certificate.
type tlsFlags struct {
	caCert   string
	insecure bool
}

func (t *tlsFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.caCert, "cacert", "", "PEM file of the CA (or self-signed certificate) to trust for https:// and wss://")
	cmd.Flags().BoolVar(&t.insecure, "insecure", false, "do not verify the server's certificate (testing only)")
}

// config is the TLS client configuration; nil means the system's defaults.
func (t *tlsFlags) config() (*tls.Config, error) {
	if t.caCert == "" && !t.insecure {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.insecure}
	if t.caCert != "" {
		pem, err := os.ReadFile(t.caCert)
		if err != nil {
			return nil, usageError("--cacert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usageError("--cacert: %s holds no PEM certificate", t.caCert)
		}
		c.RootCAs = pool
	}
	return c, nil
}
