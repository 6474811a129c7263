// Command vigil-quorumd is the quorum daemon of a Vigil node; see package
// quorumd.
package main

import (
	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/quorumd"
)

func main() {
	daemon.Main(daemon.Spec{
		Name:   "vigil-quorumd",
		Listen: func(c *config.Config) string { return c.Vigil.QuorumListen },
		Start:  quorumd.Start,
	})
}
