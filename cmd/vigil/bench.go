package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/internal/cpgbench"
	"github.com/vigil-ha/vigil/internal/localcluster"
)

func newBenchCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure the cluster (results in the format of ../shared/anchors)"}
	var o cpgbench.Options
	var nodes int
	var binDir string
	cpg := &cobra.Command{
		Use:   "cpg",
		Short: "Process-group throughput or latency, printed like the Corosync CPG anchor's bench.sh",
		Long: "Runs one case against the local cluster of --dir, or, without --dir, against a new local cluster of\n" +
			"--nodes nodes that is stopped afterwards. Prints one line:\n" +
			"case=tput-1x64 nodes=3 senders=1 mode=tput msgs=... size=64 time=...s rate=... msg/s ... MB/s try_again=0 order_errors=0 lat_us p50=... p99=... max=... total_rate=... msg/s",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var c *localcluster.Cluster
			if g.dir != "" {
				var err error
				if c, err = localcluster.Load(g.dir); err != nil {
					return err
				}
			} else {
				bins, err := daemonBinDir(binDir)
				if err != nil {
					return err
				}
				dir, err := os.MkdirTemp("", "vigil-bench-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				if c, err = localcluster.Up(ctx, localcluster.Options{Dir: dir, Nodes: nodes, BinDir: bins}); err != nil {
					return err
				}
				defer c.Down(context.Background())
			}
			waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			if err := c.WaitForView(waitCtx); err != nil {
				return err
			}
			o.Cluster = c
			r, err := cpgbench.Run(ctx, o)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), r)
			return nil
		},
	}
	cpg.Flags().IntVar(&nodes, "nodes", 3, "nodes of the cluster started for the case (without --dir)")
	cpg.Flags().IntVar(&o.Senders, "senders", 1, "concurrent senders, one per node first")
	cpg.Flags().IntVar(&o.Size, "size", 64, "bytes per message, 24-byte header included")
	cpg.Flags().IntVar(&o.Count, "count", 100000, "messages per sender")
	cpg.Flags().StringVar(&o.Mode, "mode", "tput", "tput (as fast as flow control allows) or pingpong (one message in flight)")
	cpg.Flags().StringVar(&binDir, "bin", "", "directory of the vigil-* daemon binaries (default: beside this vigil binary)")
	cmd.AddCommand(cpg)
	return cmd
}
