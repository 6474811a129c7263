// Command vigil-lrmd is the lrmd daemon of a Vigil node; see package lrmd.
package main

import (
	"context"

	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/internal/rpcserver"
	"github.com/vigil-ha/vigil/lrmd"
)

func main() {
	daemon.Main(daemon.Spec{
		Name:   "vigil-lrmd",
		Listen: func(c *config.Config) string { return c.Vigil.LRMListen },
		Start: func(_ context.Context, env daemon.Env, srv *rpcserver.Server) error {
			lrmd.NewServer(env.Logger).Register(srv)
			return nil
		},
	})
}
