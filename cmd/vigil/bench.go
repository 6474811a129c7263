package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/internal/cpgbench"
	"github.com/vigil-ha/vigil/internal/daemon"
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
			c, stop, err := benchCluster(ctx, g, nodes, binDir, nil)
			if err != nil {
				return err
			}
			defer stop()
			o.Cluster = c
			if dir := os.Getenv("VIGIL_CPU_PROFILE_DIR"); dir != "" {
				// The daemons profile themselves with the same knob; the
				// benchmark client is profiled for the run only.
				stopProfile, err := daemon.StartCPUProfile(filepath.Join(dir, "vigil-bench.pprof"))
				if err != nil {
					return err
				}
				defer stopProfile()
			}
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
	cmd.AddCommand(cpg, newStabilityCommand(g), newBurnCommand(), newCIBBenchCommand(g), newFailoverBenchCommand(g))
	return cmd
}

// newStabilityCommand runs the idle-cluster test of issue 3: no view may
// change while other processes keep every core busy.
func newStabilityCommand(g *globalFlags) *cobra.Command {
	var nodes, burners int
	var duration time.Duration
	var binDir string
	cmd := &cobra.Command{
		Use:   "stability",
		Short: "Watch an idle cluster while other processes keep the CPUs busy; count view changes (must be 0)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, stop, err := benchCluster(ctx, g, nodes, binDir, nil)
			if err != nil {
				return err
			}
			defer stop()
			self, err := os.Executable()
			if err != nil {
				return err
			}
			var burns []*exec.Cmd
			defer func() {
				for _, b := range burns {
					b.Process.Kill()
					b.Wait()
				}
			}()
			for range burners {
				b := exec.Command(self, "bench", "burn")
				if err := b.Start(); err != nil {
					return err
				}
				burns = append(burns, b)
			}
			r, err := cpgbench.Stability(ctx, c, duration, burners)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), r)
			if r.Changes > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d view changes in an idle cluster", r.Changes)}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&nodes, "nodes", 3, "nodes of the cluster started for the run (without --dir)")
	cmd.Flags().IntVar(&burners, "burners", runtime.NumCPU(), "processes that each keep CPUs busy")
	cmd.Flags().DurationVar(&duration, "duration", 10*time.Minute, "how long to watch")
	cmd.Flags().StringVar(&binDir, "bin", "", "directory of the vigil-* daemon binaries (default: beside this vigil binary)")
	return cmd
}

// newBurnCommand spins every CPU until killed: the load of `bench stability`.
func newBurnCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "burn",
		Hidden: true,
		Args:   cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			for range runtime.NumCPU() - 1 {
				go spin()
			}
			spin()
		},
	}
}

func spin() {
	x := 0
	for {
		x++
	}
}

// benchCluster is the cluster of --dir, or a new one of n nodes that the
// returned function stops.
func benchCluster(ctx context.Context, g *globalFlags, n int, binDir string, totem []string) (*localcluster.Cluster, func(), error) {
	if g.dir != "" {
		c, err := localcluster.Load(g.dir)
		if err != nil {
			return nil, nil, err
		}
		return c, func() {}, waitView(ctx, c)
	}
	bins, err := daemonBinDir(binDir)
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "vigil-bench-")
	if err != nil {
		return nil, nil, err
	}
	c, err := localcluster.Up(ctx, localcluster.Options{Dir: dir, Nodes: n, BinDir: bins, Totem: totem})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	stop := func() {
		c.Down(context.Background())
		os.RemoveAll(dir)
	}
	if err := waitView(ctx, c); err != nil {
		stop()
		return nil, nil, err
	}
	return c, stop, nil
}

func waitView(ctx context.Context, c *localcluster.Cluster) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return c.WaitForView(ctx)
}
