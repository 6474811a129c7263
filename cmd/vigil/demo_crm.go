package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibclient"
	"github.com/vigil-ha/vigil/crmd/crmsh"
	"github.com/vigil-ha/vigil/internal/localcluster"
)

// The demo's resources: a web service group of the http plugin agent and
// a Dummy, each node running them in its own directory (state files and
// pidfiles are relative paths).
const (
	demoGroup = "websvc"
	demoWeb   = "web"
	demoDummy = "dummy"
)

// demoConfig is what the demo configures, in crmsh syntax.
func demoConfig(port int) string {
	return fmt.Sprintf(`property stonith-enabled=false
rsc_defaults resource-stickiness=100
primitive %s plugin:http params address=127.0.0.1 port=%d pidfile=web.pid op monitor interval=2s timeout=10s
primitive %s plugin:dummy params state=dummy.state op monitor interval=2s
group %s %s %s
`, demoWeb, port, demoDummy, demoGroup, demoWeb, demoDummy)
}

// runDemoCRM is the demo's cluster-manager part: configure the web
// service, show it running, kill the node that runs it, show it running
// elsewhere with the measured failover time, and bring the node back.
func runDemoCRM(cmd *cobra.Command, g *globalFlags, c *localcluster.Cluster) error {
	ctx, out := cmd.Context(), cmd.OutOrStdout()
	if _, err := os.Stat(filepath.Join(c.PluginDir, "http")); err != nil {
		return fmt.Errorf("the http plugin agent is not in %s (scripts/demo.sh builds it: go build -o bin/plugins/ ./plugins/dummy ./plugins/http): %w", c.PluginDir, err)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	conf := demoConfig(port)
	fmt.Fprintf(out, "\nConfiguring a web service through vigil-crmd (vigil configure load -):\n\n%s", indent(conf))
	if err := demoConfigure(ctx, g, conf, out); err != nil {
		return err
	}
	first, err := demoWaitGroup(ctx, g, "", 60*time.Second)
	if err != nil {
		return err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	fmt.Fprintf(out, "\nThe group runs on %s (vigil status):\n\n", first)
	if err := demoStatus(ctx, g, out); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%s says: %s\n", url, pageSays(url))

	// The node dies: every process of it, its daemons and the web server
	// it runs, and its runtime state (the Dummy's state file), as a power
	// loss would.
	var survivor string
	for _, n := range c.Nodes {
		if n.Name != first {
			survivor = n.Name
			break
		}
	}
	fmt.Fprintf(out, "\nKilling node %s: SIGKILL to its daemons and the web server it runs ...\n", first)
	killed := time.Now()
	if err := c.KillNode(first); err != nil {
		return err
	}
	nodeDir := filepath.Join(c.Dir, "nodes", first)
	if b, err := os.ReadFile(filepath.Join(nodeDir, "web.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	os.Remove(filepath.Join(nodeDir, "web.pid"))
	os.Remove(filepath.Join(nodeDir, "dummy.state"))
	g.node = survivor
	second, err := demoWaitGroup(ctx, g, first, 60*time.Second)
	if err != nil {
		return err
	}
	failover := time.Since(killed)
	fmt.Fprintf(out, "\nFailover: the group runs on %s, %.2f s after %s was killed (vigil status on %s):\n\n", second, failover.Seconds(), first, survivor)
	if err := demoStatus(ctx, g, out); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%s says: %s\n", url, pageSays(url))
	fmt.Fprintf(out, "failover_ms: %d\n", failover.Milliseconds())

	fmt.Fprintf(out, "\nBringing %s back ...\n", first)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	err = c.RestartNode(wctx, first)
	cancel()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		snap, err := demoSnapshot(ctx, g)
		if err == nil {
			var b strings.Builder
			writeStatus(&b, snap.c, snap.st, snap.local, time.Now())
			on, _ := runningOn(snap.c, demoGroup)
			if strings.Contains(b.String(), "Online: [ "+nodeList(c)+" ]") && len(on) == 1 && on[0] == second {
				fmt.Fprintf(out, "\n%s is back; the group stays on %s (resource-stickiness):\n\n%s", first, second, b.String())
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not come back online within 60 s", first)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func nodeList(c *localcluster.Cluster) string {
	var names []string
	for _, n := range c.Nodes {
		names = append(names, n.Name)
	}
	return strings.Join(names, " ")
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// freePort is a TCP port of 127.0.0.1 free now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// demoConfigure commits the statements in one live commit, retrying while
// the cluster's CIB is not ready for changes.
func demoConfigure(ctx context.Context, g *globalFlags, conf string, out io.Writer) error {
	stmts, err := crmsh.Parse(conf)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := func() error {
			sess, err := openSession(ctx, g, "", out)
			if err != nil {
				return err
			}
			for _, s := range stmts {
				if err := sess.exec(s); err != nil {
					return err
				}
			}
			return sess.commit()
		}()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func demoSnapshot(ctx context.Context, g *globalFlags) (statusSnapshot, error) {
	var snap statusSnapshot
	err := withCIB(ctx, g, func(ctx context.Context, cl *cibclient.Client) error {
		var err error
		snap, err = readStatus(ctx, cl)
		return err
	})
	return snap, err
}

func demoStatus(ctx context.Context, g *globalFlags, out io.Writer) error {
	snap, err := demoSnapshot(ctx, g)
	if err != nil {
		return crmdError("vigil status", err)
	}
	return snap.write(out, "text", time.Now())
}

// demoWaitGroup waits until both members of the group run on one node
// other than not, and returns it.
func demoWaitGroup(ctx context.Context, g *globalFlags, not string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		c, err := queryCIBOnce(ctx, g)
		if err == nil {
			web, _ := runningOn(c, demoWeb)
			dummy, _ := runningOn(c, demoDummy)
			if len(web) == 1 && len(dummy) == 1 && web[0] == dummy[0] && web[0] != not {
				return web[0], nil
			}
			last = fmt.Sprintf("web on %v, dummy on %v", web, dummy)
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the group %s did not start within %v (%s); logs: %s", demoGroup, timeout, last,
				filepath.Join(g.dir, "nodes", "*", "logs", "vigil-crmd.log"))
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// queryCIBOnce reads the CIB with a short deadline: a crmd that just lost
// its peers answers again soon.
func queryCIBOnce(ctx context.Context, g *globalFlags) (*cib.CIB, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return queryCIB(ctx, g)
}

var h1 = regexp.MustCompile(`<h1>([^<]*)</h1>`)

// pageSays is the heading of the web page, or why there is none.
func pageSays(url string) string {
	cl := &http.Client{Timeout: 3 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		return "(" + err.Error() + ")"
	}
	if m := h1.FindSubmatch(b); m != nil {
		return `"` + string(m[1]) + `"`
	}
	return strings.TrimSpace(string(b))
}
