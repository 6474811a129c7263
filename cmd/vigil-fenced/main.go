// Command vigil-fenced is the fenced daemon of a Vigil node; see package fenced.
package main

import (
	"context"

	"github.com/vigil-ha/vigil/fenced"
	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/internal/rpcserver"
)

func main() {
	daemon.Main(daemon.Spec{
		Name:   "vigil-fenced",
		Listen: func(c *config.Config) string { return c.Vigil.FenceListen },
		Start: func(_ context.Context, env daemon.Env, srv *rpcserver.Server) error {
			fenced.NewServer(env.Logger).Register(srv)
			return nil
		},
	})
}
