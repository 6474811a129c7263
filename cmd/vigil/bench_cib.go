package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/crmd/cibclient"
	"github.com/vigil-ha/vigil/crmd/cibsvc"
)

// newCIBBenchCommand measures CIB changes committed per second through
// vigil-crmd's API (issue 9's "CIB updates committed per second").
func newCIBBenchCommand(g *globalFlags) *cobra.Command {
	var nodes, clients, changes int
	var binDir string
	cmd := &cobra.Command{
		Use:   "cib",
		Short: "CIB changes committed per second through vigil-crmd",
		Long: "Each client sets one cluster property per change (a patch of one nvpair) through the crmd of\n" +
			"a node (clients spread over the nodes) and waits for the answer, which comes once that node\n" +
			"applied and saved the change in the crm group's order. Runs against the local cluster of --dir,\n" +
			"or a new one of --nodes nodes. Prints one line:\n" +
			"case=cib-patch nodes=3 clients=1 changes=... time=...s rate=... changes/s lat_us p50=... p99=... max=...",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if clients < 1 || changes < clients {
				return fmt.Errorf("want at least 1 client and as many changes as clients")
			}
			ctx := cmd.Context()
			c, stop, err := benchCluster(ctx, g, nodes, binDir, nil)
			if err != nil {
				return err
			}
			defer stop()
			var cls []*cibclient.Client
			for _, n := range c.Nodes {
				conn, err := n.Dial("vigil-crmd", c.AdminFiles())
				if err != nil {
					return err
				}
				defer conn.Close()
				cls = append(cls, cibclient.New(conn))
			}
			if err := waitCrmdsSynced(ctx, cls); err != nil {
				return err
			}
			lat := make([][]time.Duration, clients)
			errs := make([]error, clients)
			var wg sync.WaitGroup
			start := time.Now()
			for w := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cl := cls[w%len(cls)]
					for i := range changes / clients {
						t0 := time.Now()
						_, err := cl.Patch(ctx, cibsvc.Patch{Ops: []cibsvc.Op{{Kind: cibsvc.OpSetNVPair,
							Target: "vigil-bench", Parent: "/cib/configuration/crm_config", SetElement: "cluster_property_set",
							Name: fmt.Sprintf("bench-client-%d", w), Value: fmt.Sprint(i)}}}, nil)
						if err != nil {
							errs[w] = err
							return
						}
						lat[w] = append(lat[w], time.Since(t0))
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			for _, err := range errs {
				if err != nil {
					return crmdError("change the CIB", err)
				}
			}
			all := slices.Concat(lat...)
			slices.Sort(all)
			pct := func(p float64) int64 { return all[min(len(all)-1, int(p*float64(len(all))))].Microseconds() }
			fmt.Fprintf(cmd.OutOrStdout(), "case=cib-patch nodes=%d clients=%d changes=%d time=%.2fs rate=%.0f changes/s lat_us p50=%d p99=%d max=%d\n",
				len(c.Nodes), clients, len(all), elapsed.Seconds(), float64(len(all))/elapsed.Seconds(), pct(0.5), pct(0.99), all[len(all)-1].Microseconds())
			return nil
		},
	}
	cmd.Flags().IntVar(&nodes, "nodes", 3, "nodes of the cluster started for the case (without --dir)")
	cmd.Flags().IntVar(&clients, "clients", 1, "concurrent clients, spread over the nodes")
	cmd.Flags().IntVar(&changes, "changes", 1000, "changes in all")
	cmd.Flags().StringVar(&binDir, "bin", "", "directory of the vigil-* daemon binaries (default: beside this vigil binary)")
	return cmd
}

// waitCrmdsSynced waits until every crmd is in one synced crm group.
func waitCrmdsSynced(ctx context.Context, cls []*cibclient.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		ok := true
		var last string
		for _, cl := range cls {
			st, err := cl.Status(ctx)
			if err != nil || !st.Synced || len(st.Members) != len(cls) {
				ok, last = false, fmt.Sprintf("node %d: %+v %v", st.Local, st, err)
				break
			}
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the crmds did not form one synced group: %s", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
