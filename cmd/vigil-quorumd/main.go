// Command vigil-quorumd is the quorumd daemon of a Vigil node; see package quorumd.
package main

import (
	"context"

	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/internal/rpcserver"
	"github.com/vigil-ha/vigil/quorumd"
)

func main() {
	daemon.Main(daemon.Spec{
		Name:   "vigil-quorumd",
		Listen: func(c *config.Config) string { return c.Vigil.QuorumListen },
		Start: func(_ context.Context, env daemon.Env, srv *rpcserver.Server) error {
			quorumd.NewServer(env.Logger).Register(srv)
			return nil
		},
	})
}
