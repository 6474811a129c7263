// Command vigil-lrmd is the executor daemon of a Vigil node; see package
// lrmd.
package main

import (
	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/lrmd"
)

func main() {
	daemon.Main(daemon.Spec{
		Name:   "vigil-lrmd",
		Listen: func(c *config.Config) string { return c.Vigil.LRMListen },
		Start:  lrmd.Start,
	})
}
