// Command vigil-messagingd is the messaging daemon of a Vigil node; see package messaging.
package main

import (
	"context"

	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/internal/rpcserver"
	"github.com/vigil-ha/vigil/messaging"
)

func main() {
	daemon.Main(daemon.Spec{
		Name:   "vigil-messagingd",
		Listen: func(c *config.Config) string { return c.Vigil.MessagingListen },
		Start: func(_ context.Context, env daemon.Env, srv *rpcserver.Server) error {
			messaging.NewServer(env.Logger).Register(srv)
			return nil
		},
	})
}
