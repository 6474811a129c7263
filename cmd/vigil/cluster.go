package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/vigil-ha/vigil/internal/localcluster"
)

func newClusterCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Run a local multi-node cluster on this machine (for trying Vigil, tests and benchmarks)",
	}
	var nodes int
	var binDir, pluginDir string
	var totem []string
	up := &cobra.Command{
		Use:   "up --nodes N --dir DIR",
		Short: "Start a local cluster: N nodes, each with its own loopback address and five daemons",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.dir == "" {
				return errors.New("cluster up needs --dir DIR: the directory for the cluster's configuration, certificates, state and logs")
			}
			bins, err := daemonBinDir(binDir)
			if err != nil {
				return err
			}
			var lines []string
			for _, kv := range totem {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || strings.TrimSpace(k) == "" || strings.ContainsAny(kv, "{}\n") {
					return usagef("--totem %q: want KEY=VALUE, e.g. --totem token=300", kv)
				}
				lines = append(lines, strings.TrimSpace(k)+": "+strings.TrimSpace(v))
			}
			c, err := localcluster.Up(cmd.Context(), localcluster.Options{Dir: g.dir, Nodes: nodes, BinDir: bins, PluginDir: pluginDir, Totem: lines})
			if err != nil {
				return err
			}
			return printHealth(cmd, c, "text")
		},
	}
	up.Flags().IntVar(&nodes, "nodes", 3, "number of nodes")
	up.Flags().StringVar(&binDir, "bin", "", "directory of the vigil-* daemon binaries (default: the directory of this vigil binary)")
	up.Flags().StringArrayVar(&totem, "totem", nil, "a totem setting of every node's vigil.conf, KEY=VALUE (repeatable), e.g. token=300")
	up.Flags().StringVar(&pluginDir, "plugin-dir", "", "directory of the plugin resource agents and STONITH drivers of every node (default: BIN/plugins)")

	down := &cobra.Command{
		Use:   "down --dir DIR",
		Short: "Stop every daemon of the local cluster (configuration, certificates and logs are kept)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := loadCluster(g)
			if err != nil {
				return err
			}
			if err := c.Down(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stopped the cluster in %s; logs are in %s\n", c.Dir, filepath.Join(c.Dir, "nodes", "*", "logs"))
			return nil
		},
	}

	var output string
	status := &cobra.Command{
		Use:   "status --dir DIR",
		Short: "Show every daemon of the local cluster and whether it is healthy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := loadCluster(g)
			if err != nil {
				return err
			}
			return printHealth(cmd, c, output)
		},
	}
	status.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.AddCommand(up, down, status)
	return cmd
}

func loadCluster(g *globalFlags) (*localcluster.Cluster, error) {
	if g.dir == "" {
		return nil, errors.New("--dir DIR is required: the directory given to `vigil cluster up`")
	}
	return localcluster.Load(g.dir)
}

// daemonBinDir finds the vigil-* daemons: the --bin flag, or beside this
// executable, which is where `go build -o DIR ./cmd/...` puts them.
func daemonBinDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the daemon binaries: %w; pass --bin DIR", err)
	}
	return filepath.Dir(exe), nil
}

type healthRow struct {
	Node    string `json:"node"`
	Daemon  string `json:"daemon"`
	Address string `json:"address"`
	PID     int    `json:"pid"`
	Running bool   `json:"running"`
	Health  string `json:"health"`
	Error   string `json:"error,omitempty"`
}

// printHealth prints every daemon's health and fails (exit 3) when one is
// not SERVING, so scripts can rely on the exit status.
func printHealth(cmd *cobra.Command, c *localcluster.Cluster, output string) error {
	var rows []healthRow
	unhealthy := 0
	for _, h := range c.Health(cmd.Context()) {
		r := healthRow{Node: h.Node, Daemon: h.Daemon.Name, Address: h.Daemon.Address, PID: h.Daemon.PID, Running: h.Running, Health: h.Status.String()}
		if h.Err != nil {
			r.Error = h.Err.Error()
		}
		if h.Status != healthpb.HealthCheckResponse_SERVING {
			unhealthy++
		}
		rows = append(rows, r)
	}
	out := cmd.OutOrStdout()
	switch output {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"dir": c.Dir, "cluster": c.Name, "daemons": rows}); err != nil {
			return err
		}
	case "text":
		writeHealthTable(out, c, rows)
	default:
		return fmt.Errorf("-o %q: want text or json", output)
	}
	if unhealthy > 0 {
		return &exitError{code: 3, err: fmt.Errorf("%d of %d daemons are not SERVING; see the logs in %s", unhealthy, len(rows), filepath.Join(c.Dir, "nodes", "*", "logs"))}
	}
	return nil
}

func writeHealthTable(out io.Writer, c *localcluster.Cluster, rows []healthRow) {
	nodes := "nodes"
	if len(c.Nodes) == 1 {
		nodes = "node"
	}
	fmt.Fprintf(out, "Cluster %s in %s: %d %s\n\n", c.Name, c.Dir, len(c.Nodes), nodes)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tDAEMON\tADDRESS\tPID\tHEALTH")
	for _, r := range rows {
		health := r.Health
		if r.Error != "" {
			health += " (" + r.Error + ")"
		}
		if !r.Running {
			health = "NOT RUNNING"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", r.Node, r.Daemon, r.Address, r.PID, health)
	}
	tw.Flush()
}
