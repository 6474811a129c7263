package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/internal/localcluster"
)

func newDemoCommand(g *globalFlags) *cobra.Command {
	var nodes int
	var binDir string
	var exit bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start a local cluster, run a web service on it, kill its node, show the failover, and stop on Ctrl-C",
		Long: `Start a local cluster of --nodes nodes on this machine (generated
certificates, no root), show its membership and quorum, configure a web
service group (the http plugin agent and a Dummy) through vigil-crmd, show
vigil status, kill the node that runs the group (its daemons and the web
server) and show the group running elsewhere with the measured failover
time, bring the node back, and then wait for Ctrl-C (or stop at once with
--exit). scripts/demo.sh builds everything it needs first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := g.dir
			if dir == "" {
				dir = filepath.Join(os.TempDir(), "vigil-demo")
			}
			// The cluster commands below talk to this cluster.
			g.dir = dir
			bins, err := daemonBinDir(binDir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Starting a %d-node Vigil cluster in %s ...\n", nodes, dir)
			c, err := localcluster.Up(cmd.Context(), localcluster.Options{Dir: dir, Nodes: nodes, BinDir: bins})
			if err != nil {
				return err
			}
			healthErr := printHealth(cmd, c, "text")
			if healthErr == nil {
				waitCtx, cancel := context.WithTimeout(cmd.Context(), 60*time.Second)
				healthErr = c.WaitForView(waitCtx)
				cancel()
			}
			if healthErr == nil {
				fmt.Fprintf(out, "\nAll %d nodes are in one membership view. Node n1's links (vigil cfg status):\n\n", len(c.Nodes))
				healthErr = g.showLinks(cmd, "text")
			}
			if healthErr == nil {
				fmt.Fprintf(out, "\nQuorum as node n1's vigil-quorumd computes it (vigil quorum status):\n\n")
				healthErr = g.showQuorumWhenQuorate(cmd, len(c.Nodes), 30*time.Second)
			}
			if healthErr == nil {
				healthErr = runDemoCRM(cmd, g, c)
			}
			n := c.Nodes[0]
			d, _ := n.Daemon("vigil-crmd")
			admin := c.AdminFiles()
			fmt.Fprintf(out, "\nEvery daemon serves gRPC with mutual TLS only. Try, from the repository:\n")
			fmt.Fprintf(out, "  go tool grpcurl -cacert %s -cert %s -key %s -servername %s %s list\n", admin.CA, admin.Cert, admin.Key, n.Name, d.Address)
			fmt.Fprintf(out, "  bin/vigil cfg status --dir %s --node n2\n", c.Dir)
			fmt.Fprintf(out, "  bin/vigil cmap list runtime.members --dir %s\n", c.Dir)
			fmt.Fprintf(out, "  bin/vigil bench cpg --dir %s --count 100000\n", c.Dir)
			fmt.Fprintf(out, "  bin/vigil cluster status --dir %s\n", c.Dir)
			fmt.Fprintf(out, "  bin/vigil status --watch --dir %s\n", c.Dir)
			fmt.Fprintf(out, "  bin/vigil node standby NODE --dir %s      # the web service moves away\n", c.Dir)
			fmt.Fprintf(out, "  bin/vigil resource move %s NODE --dir %s\n", demoGroup, c.Dir)
			fmt.Fprintf(out, "  bin/vigil configure show --dir %s\n", c.Dir)
			fmt.Fprintf(out, "Logs: %s\n", filepath.Join(c.Dir, "nodes", "*", "logs", "*.log"))
			if exit || healthErr != nil {
				return stopDemo(cmd, c, healthErr)
			}
			fmt.Fprintf(out, "\nThe cluster runs until you press Ctrl-C (or run `vigil cluster down --dir %s` elsewhere).\n", c.Dir)
			<-cmd.Context().Done()
			return stopDemo(cmd, c, nil)
		},
	}
	cmd.Flags().IntVar(&nodes, "nodes", 3, "number of nodes")
	cmd.Flags().StringVar(&binDir, "bin", "", "directory of the vigil-* daemon binaries (default: the directory of this vigil binary)")
	cmd.Flags().BoolVar(&exit, "exit", false, "stop the cluster right after showing it, instead of waiting for Ctrl-C")
	return cmd
}

func stopDemo(cmd *cobra.Command, c *localcluster.Cluster, prior error) error {
	fmt.Fprintf(cmd.OutOrStdout(), "\nStopping the cluster ...\n")
	// The command's context may be cancelled already (Ctrl-C); stopping
	// must still finish.
	if err := c.Down(context.Background()); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Stopped. Logs stay in %s\n", filepath.Join(c.Dir, "nodes"))
	return prior
}
