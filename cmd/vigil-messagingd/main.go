// Command vigil-messagingd is the messaging daemon of a Vigil node; see package messaging.
package main

import (
	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/messaging"
)

func main() {
	daemon.Main(daemon.Spec{
		Name:   "vigil-messagingd",
		Listen: func(c *config.Config) string { return c.Vigil.MessagingListen },
		Start:  messaging.Start,
	})
}
