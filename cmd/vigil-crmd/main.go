// Command vigil-crmd is the crmd daemon of a Vigil node; see package crmd.
package main

import (
	"context"

	"github.com/vigil-ha/vigil/crmd"
	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/internal/rpcserver"
)

func main() {
	daemon.Main(daemon.Spec{
		Name:   "vigil-crmd",
		Listen: func(c *config.Config) string { return c.Vigil.CRMListen },
		Start: func(_ context.Context, env daemon.Env, srv *rpcserver.Server) error {
			crmd.NewServer(env.Logger).Register(srv)
			return nil
		},
	})
}
