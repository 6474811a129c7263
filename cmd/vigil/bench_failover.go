package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibclient"
	"github.com/vigil-ha/vigil/internal/localcluster"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// The failover benchmark's cluster, as ../shared/anchors/pacemaker-failover
// configures Pacemaker: no fencing, stop without quorum, stickiness so d1
// does not fail back, one Dummy with a 10 s monitor. The dummy plugin's
// state file is relative: each node's daemons run in the node's own
// directory, so each node has its own file.
const failoverBenchConfig = `property stonith-enabled=false
property no-quorum-policy=stop
rsc_defaults resource-stickiness=100
primitive d1 plugin:dummy params state=d1.state op monitor interval=10s
`

// failoverOptions are the knobs of `vigil bench failover`, named after the
// anchor's environment variables where it has them.
type failoverOptions struct {
	nodes   int
	runs    int
	token   int
	poll    time.Duration
	settle  time.Duration
	maxWait time.Duration
	idle    time.Duration
	binDir  string
	// kill is "process" (SIGKILL every daemon of the victim) or "link"
	// (cut every link between the victim and the others; root only).
	kill string
}

// newFailoverBenchCommand measures the time from killing the node that runs
// a resource to the resource running elsewhere: issue 9's failover figure,
// printed like the Pacemaker anchor's failover.sh.
func newFailoverBenchCommand(g *globalFlags) *cobra.Command {
	var o failoverOptions
	cmd := &cobra.Command{
		Use:   "failover",
		Short: "Failover time after SIGKILL of the node running a resource, printed like the Pacemaker anchor's failover.sh",
		Long: "Configures d1 (the dummy plugin, 10 s monitor; no fencing, no-quorum-policy=stop, stickiness 100,\n" +
			"as ../shared/anchors/pacemaker-failover does) on the local cluster of --dir, or on a new one of\n" +
			"--nodes nodes (with --token MS as totem.token). Each run SIGKILLs every daemon of the node running\n" +
			"d1 and removes d1's state there (a power loss), polls a survivor's CIB every --poll until d1 runs\n" +
			"on another node, prints\n" +
			"  failover_ms: N\n" +
			"    run=1 kill=process stable=yes membership_changes=1 victim=n1 dc_before=n3 dc_killed=no new=n2 observer=n2 seen_not_on_victim_ms=... membership_ms=...\n" +
			"then restarts the victim and settles. With --idle D, first watches the idle cluster for D and\n" +
			"prints the view changes and d1's moves and restarts (all must be 0).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFailoverBench(cmd.Context(), g, o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.nodes, "nodes", 3, "nodes of the cluster started for the run (without --dir)")
	f.IntVar(&o.runs, "runs", 3, "measured failovers")
	f.IntVar(&o.token, "token", 0, "totem.token in ms of the cluster started for the run (0: Vigil's default)")
	f.DurationVar(&o.poll, "poll", 50*time.Millisecond, "pause between two polls of the survivor's CIB")
	f.DurationVar(&o.settle, "settle", 5*time.Second, "wait after the victim is back before the next run")
	f.DurationVar(&o.maxWait, "maxwait", 120*time.Second, "give up on a run after this long")
	f.DurationVar(&o.idle, "idle", 0, "watch the idle cluster this long before the runs (0: not at all)")
	f.StringVar(&o.kill, "kill", "process", "how the victim dies: process (SIGKILL of its daemons, its state removed) or link (its links cut with nftables, root only; it stops d1 itself without quorum)")
	f.StringVar(&o.binDir, "bin", "", "directory of the vigil-* daemon binaries (default: beside this vigil binary)")
	return cmd
}

func runFailoverBench(ctx context.Context, g *globalFlags, o failoverOptions, out io.Writer) error {
	if o.runs < 0 || o.nodes < 2 && g.dir == "" {
		return usagef("want --runs >= 0 and --nodes >= 2")
	}
	switch o.kill {
	case "process":
	case "link":
		if os.Geteuid() != 0 {
			return usagef("--kill link cuts links with nftables and needs root")
		}
	default:
		return usagef("--kill %q: want process or link", o.kill)
	}
	var totem []string
	if o.token > 0 {
		if g.dir != "" {
			return usagef("--token applies to the cluster the command starts; the cluster of --dir keeps its own")
		}
		totem = []string{fmt.Sprintf("token: %d", o.token)}
	}
	c, stop, err := benchCluster(ctx, g, o.nodes, o.binDir, totem)
	if err != nil {
		return err
	}
	defer stop()
	g.dir = c.Dir
	current, err := queryCIBFrom(ctx, g, c.Nodes[0].Name)
	if err != nil {
		return err
	}
	if current.Configuration.Resource("d1") == nil {
		if err := demoConfigure(ctx, g, failoverBenchConfig, io.Discard); err != nil {
			return fmt.Errorf("configuring d1: %w", err)
		}
	}
	fmt.Fprintf(out, "# %s params: nodes=%d kill=%s poll=%v settle=%v totem=%q dir=%s\n",
		time.Now().UTC().Format(time.RFC3339), len(c.Nodes), o.kill, o.poll, o.settle, strings.Join(c.Totem, "; "), c.Dir)
	if _, err := waitD1(ctx, g, c, o.maxWait); err != nil {
		return err
	}
	if o.idle > 0 {
		if err := watchIdle(ctx, g, c, o.idle, out); err != nil {
			return err
		}
	}
	var times []time.Duration
	for run := 1; run <= o.runs; run++ {
		d, err := failoverRun(ctx, g, c, o, run, out)
		if err != nil {
			return fmt.Errorf("run %d: %w (logs: %s)", run, err, filepath.Join(c.Dir, "nodes", "*", "logs"))
		}
		times = append(times, d)
	}
	if len(times) > 0 {
		slices.Sort(times)
		fmt.Fprintf(out, "failover_ms runs=%d min=%d median=%d max=%d\n", len(times),
			times[0].Milliseconds(), times[len(times)/2].Milliseconds(), times[len(times)-1].Milliseconds())
	}
	return nil
}

// failoverRun kills the node running d1 and measures until a survivor's
// CIB shows d1 running elsewhere; then brings the node back.
func failoverRun(ctx context.Context, g *globalFlags, c *localcluster.Cluster, o failoverOptions, run int, out io.Writer) (time.Duration, error) {
	victim, err := waitD1(ctx, g, c, o.maxWait)
	if err != nil {
		return 0, err
	}
	var observer string
	for _, n := range c.Nodes {
		if n.Name != victim {
			observer = n.Name
			break
		}
	}
	st, err := crmStatusFrom(ctx, g, observer)
	if err != nil {
		return 0, err
	}
	views, err := watchViews(ctx, c, observer)
	if err != nil {
		return 0, err
	}
	defer views.stop()

	var others []string
	for _, n := range c.Nodes {
		if n.Name != victim {
			others = append(others, n.Name)
		}
	}
	killed := time.Now()
	if o.kill == "link" {
		err = c.Partition([]string{victim}, others)
		defer c.Heal()
	} else {
		err = c.KillNode(victim)
		// A power loss: the agent's state goes with the node.
		os.Remove(filepath.Join(c.Dir, "nodes", victim, "d1.state"))
	}
	if err != nil {
		return 0, err
	}
	var notOnVictim time.Duration
	var now string
	for {
		if time.Since(killed) > o.maxWait {
			return 0, fmt.Errorf("d1 not running on a survivor within %v", o.maxWait)
		}
		if on, err := runningFrom(ctx, g, observer, "d1"); err == nil {
			if notOnVictim == 0 && !slices.Contains(on, victim) {
				notOnVictim = time.Since(killed)
			}
			if len(on) == 1 && on[0] != victim {
				now = on[0]
				break
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(o.poll):
		}
	}
	failover := time.Since(killed)
	changes := views.changes()
	stable := len(changes) == 1 && len(changes[0].members) == len(c.Nodes)-1 && !slices.Contains(changes[0].members, victim)
	membership := "-"
	if len(changes) > 0 {
		membership = fmt.Sprint(changes[0].at.Sub(killed).Milliseconds())
	}
	fmt.Fprintf(out, "failover_ms: %d\n", failover.Milliseconds())
	fmt.Fprintf(out, "  run=%d kill=%s stable=%s membership_changes=%d victim=%s dc_before=%s dc_killed=%s new=%s observer=%s seen_not_on_victim_ms=%d membership_ms=%s\n",
		run, o.kill, yesNo(stable), len(changes), victim, st.DC, yesNo(st.DC == victim), now, observer, notOnVictim.Milliseconds(), membership)

	rctx, cancel := context.WithTimeout(ctx, o.maxWait)
	defer cancel()
	if o.kill == "link" {
		err = c.Heal()
	} else {
		err = c.RestartNode(rctx, victim)
	}
	if err != nil {
		return 0, err
	}
	if err := waitAllOnline(rctx, g, c); err != nil {
		return 0, err
	}
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(o.settle):
	}
	return failover, nil
}

// watchIdle watches the idle cluster: every node's views, and where d1 runs
// and which start put it there, once a second.
func watchIdle(ctx context.Context, g *globalFlags, c *localcluster.Cluster, d time.Duration, out io.Writer) error {
	var watchers []*viewWatch
	for _, n := range c.Nodes {
		w, err := watchViews(ctx, c, n.Name)
		if err != nil {
			return err
		}
		defer w.stop()
		watchers = append(watchers, w)
	}
	start := time.Now()
	last, moves, restarts, errs := "", 0, 0, 0
	for time.Since(start) < d {
		cur, err := queryCIBFrom(ctx, g, c.Nodes[0].Name)
		if err != nil {
			errs++
		} else {
			on, _ := runningOn(cur, "d1")
			sig := strings.Join(on, ",") + "@" + startCallID(cur, "d1", on)
			if last != "" && sig != last {
				if !strings.HasPrefix(last, strings.Join(on, ",")+"@") {
					moves++
				} else {
					restarts++
				}
			}
			last = sig
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	viewChanges := 0
	for _, w := range watchers {
		viewChanges += len(w.changes())
	}
	fmt.Fprintf(out, "idle_s=%.0f view_changes=%d d1_moves=%d d1_restarts=%d query_errors=%d\n",
		time.Since(start).Seconds(), viewChanges, moves, restarts, errs)
	if viewChanges+moves+restarts > 0 {
		return &exitError{code: 1, err: fmt.Errorf("the idle cluster changed: %d view changes, %d moves, %d restarts", viewChanges, moves, restarts)}
	}
	return nil
}

// startCallID is the call id of the last start of a resource on the nodes
// it runs on: a restart in place changes it.
func startCallID(c *cib.CIB, rsc string, nodes []string) string {
	var ids []string
	for _, ns := range c.Status.NodeStates {
		if !slices.Contains(nodes, ns.Uname) || ns.LRM == nil {
			continue
		}
		for _, r := range ns.LRM.Resources {
			if r.ID != rsc {
				continue
			}
			for _, op := range r.Ops {
				if op.Operation == "start" {
					ids = append(ids, op.CallID)
				}
			}
		}
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// onNode returns a copy of the global flags that talks to one node.
func onNode(g *globalFlags, node string) *globalFlags {
	n := *g
	n.node = node
	return &n
}

func queryCIBFrom(ctx context.Context, g *globalFlags, node string) (*cib.CIB, error) {
	return queryCIBOnce(ctx, onNode(g, node))
}

func runningFrom(ctx context.Context, g *globalFlags, node, rsc string) ([]string, error) {
	c, err := queryCIBFrom(ctx, g, node)
	if err != nil {
		return nil, err
	}
	return runningOn(c, rsc)
}

func crmStatusFrom(ctx context.Context, g *globalFlags, node string) (cibclient.Status, error) {
	var st cibclient.Status
	err := withCIB(ctx, onNode(g, node), func(ctx context.Context, cl *cibclient.Client) error {
		var err error
		st, err = cl.Status(ctx)
		return err
	})
	return st, err
}

// waitD1 waits until the cluster is settled with d1 running on exactly one
// node: every crmd in the crm group, quorate, the CIB saying d1 runs there
// and that node's agent state file saying so too. A run measured from an
// unsettled cluster (a probe still failing, quorum not yet reached) would
// measure that recovery instead.
func waitD1(ctx context.Context, g *globalFlags, c *localcluster.Cluster, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		on, err := settledOn(ctx, g, c)
		if err == nil {
			return on, nil
		}
		last = err.Error()
		if time.Now().After(deadline) {
			return "", fmt.Errorf("d1 did not run on one node of a settled cluster within %v: %s", timeout, last)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func settledOn(ctx context.Context, g *globalFlags, c *localcluster.Cluster) (string, error) {
	first := c.Nodes[0].Name
	for _, n := range c.Nodes {
		// Every node: each crmd hears quorum from its own quorumd.
		st, err := crmStatusFrom(ctx, g, n.Name)
		if err != nil {
			return "", err
		}
		if !st.Synced || !st.Quorate || len(st.Members) != len(c.Nodes) || st.DC == "" {
			return "", fmt.Errorf("%s: crm group %v synced=%v quorate=%v DC=%q", n.Name, st.Members, st.Synced, st.Quorate, st.DC)
		}
	}
	on, err := runningFrom(ctx, g, first, "d1")
	if err != nil {
		return "", err
	}
	var states []string
	for _, n := range c.Nodes {
		if _, err := os.Stat(filepath.Join(c.Dir, "nodes", n.Name, "d1.state")); err == nil {
			states = append(states, n.Name)
		}
	}
	if len(on) != 1 || !slices.Equal(on, states) {
		return "", fmt.Errorf("the CIB says d1 runs on %v, the agent's state files are on %v", on, states)
	}
	return on[0], nil
}

// waitAllOnline waits until every node's crmd is in the crm group and the
// group is synchronised.
func waitAllOnline(ctx context.Context, g *globalFlags, c *localcluster.Cluster) error {
	for {
		st, err := crmStatusFrom(ctx, g, c.Nodes[0].Name)
		if err == nil && st.Synced && len(st.Members) == len(c.Nodes) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not every crmd back in the crm group: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// viewWatch records the view changes one node's messagingd reports.
type viewWatch struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	seen   []viewChange
	done   chan struct{}
}

type viewChange struct {
	at      time.Time
	members []string
}

func watchViews(ctx context.Context, c *localcluster.Cluster, node string) (*viewWatch, error) {
	n, ok := c.Node(node)
	if !ok {
		return nil, fmt.Errorf("no node %q", node)
	}
	conn, err := n.Dial("vigil-messagingd", c.AdminFiles())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	stream, err := messagingv1.NewMembershipServiceClient(conn).WatchViews(ctx, &messagingv1.WatchViewsRequest{})
	if err == nil {
		_, err = stream.Recv() // the current view
	}
	if err != nil {
		cancel()
		conn.Close()
		return nil, fmt.Errorf("watching %s's views: %w", node, err)
	}
	w := &viewWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer conn.Close()
		for {
			resp, err := stream.Recv()
			if err != nil {
				return
			}
			vc := viewChange{at: time.Now()}
			for _, m := range resp.GetView().GetMembers() {
				vc.members = append(vc.members, m.GetName())
			}
			w.mu.Lock()
			w.seen = append(w.seen, vc)
			w.mu.Unlock()
		}
	}()
	return w, nil
}

func (w *viewWatch) changes() []viewChange {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.seen)
}

func (w *viewWatch) stop() {
	w.cancel()
	<-w.done
}
