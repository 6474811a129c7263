// Command vigil-fenced is the fenced daemon of a Vigil node; see package fenced.
package main

import (
	"github.com/vigil-ha/vigil/fenced"
	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/daemon"
)

func main() {
	daemon.Main(daemon.Spec{
		Name:   "vigil-fenced",
		Listen: func(c *config.Config) string { return c.Vigil.FenceListen },
		Start:  fenced.Start,
	})
}
