// Command vigil-crmd is the crmd daemon of a Vigil node; see package crmd.
package main

import (
	"github.com/vigil-ha/vigil/crmd"
	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/daemon"
)

func main() {
	daemon.Main(daemon.Spec{
		Name:   "vigil-crmd",
		Listen: func(c *config.Config) string { return c.Vigil.CRMListen },
		Start:  crmd.Start,
		// A whole CIB can be tens of MB (Replace).
		MaxRecvMsgSize: crmd.MaxRequest,
	})
}
