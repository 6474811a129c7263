package e2e

import (
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
	"testing"
	"time"

	"github.com/vigil-ha/vigil/internal/localcluster"
)

var groupMemberOn = regexp.MustCompile(`(?m)^    \* (web|dummy)\s+\(plugin:(?:http|dummy)\):\s+Started (\S+)$`)

// TestTutorialTwoNode is the Pacemaker tutorial's scenario on Vigil: two
// nodes (two_node: 1), no fencing, no-quorum-policy=ignore, stickiness, a
// group of a web server and a second service. Standby moves the group to
// the other node, online leaves it there (stickiness), and killing the
// node that runs it brings it back. Where it runs is checked three ways:
// vigil status, the agents' own state (the web server's page names its
// node; the dummy's state file), and never two copies.
func TestTutorialTwoNode(t *testing.T) {
	c := startCluster(t, 2)
	all := []string{"n1", "n2"}
	waitFor(t, "two nodes online and quorate", 60*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, "n1")
		return err == nil && strings.Contains(out, "Online: [ n1 n2 ]") && strings.Contains(out, "partition with quorum"), out
	})
	port, err := freeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`property stonith-enabled=false
property no-quorum-policy=ignore
rsc_defaults resource-stickiness=100
primitive web plugin:http params address=127.0.0.1 port=%d pidfile=web.pid op monitor interval=2s timeout=10s
primitive dummy plugin:dummy params state=dummy.state op monitor interval=2s
group websvc web dummy
`, port)
	vigilConfigure(t, c, "n1", conf, "load", "-")
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)

	// groupOn waits until vigil status, the web page and the dummy's state
	// file all say the group runs on one node for which ok holds.
	groupOn := func(what string, ok func(string) bool) string {
		t.Helper()
		var on string
		waitFor(t, what, 60*time.Second, func() (bool, string) {
			out, err := vigilStatus(c, survivorOf(c, all))
			if err != nil {
				return false, out
			}
			nodes := map[string]string{}
			for _, m := range groupMemberOn.FindAllStringSubmatch(out, -1) {
				nodes[m[1]] = m[2]
			}
			page := pageNode(url)
			states := stateFiles(c, all, "dummy.state")
			last := fmt.Sprintf("%s\npage names %q; dummy state files on %v", out, page, states)
			if nodes["web"] == "" || nodes["web"] != nodes["dummy"] || !ok(nodes["web"]) || page != nodes["web"] ||
				len(states) != 1 || states[0] != nodes["web"] {
				return false, last
			}
			on = nodes["web"]
			return true, last
		})
		return on
	}
	first := groupOn("the group started", func(string) bool { return true })
	other := "n1"
	if first == "n1" {
		other = "n2"
	}
	t.Logf("the group runs on %s", first)

	// Never two copies: a watcher reads the agents' state all along.
	stop := watchOneCopy(t, c, all, []string{"dummy.state", "web.pid"}, false)
	defer stop()

	vigilMust(t, c, other, "node", "standby", first)
	groupOn("the group moved to "+other+" after standby of "+first, func(n string) bool { return n == other })
	vigilMust(t, c, other, "node", "online", first)
	waitFor(t, first+" online again", 30*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, other)
		return err == nil && strings.Contains(out, "Online: [ n1 n2 ]"), out
	})
	// Stickiness keeps it where it is: it must still be there after the
	// DC had time to act on the node coming online.
	if on := groupOn("the group stays on "+other, func(n string) bool { return n == other }); on != other {
		t.Fatalf("the group left %s", other)
	}
	if out := vigilMust(t, c, first, "simulate", "-L", "-S"); !strings.Contains(out, "Transition Summary:\n\nExecuting") {
		t.Errorf("the scheduler still wants to move something after online:\n%s", out)
	}

	// The node running it dies: its daemons, its web server, its state.
	killed := time.Now()
	if err := c.KillNode(other); err != nil {
		t.Fatal(err)
	}
	killWebServer(c, other)
	os.Remove(filepath.Join(c.Dir, "nodes", other, "dummy.state"))
	groupOn("the group back on "+first+" after "+other+" died", func(n string) bool { return n == first })
	t.Logf("%s killed: the group runs on %s again after %v", other, first, time.Since(killed).Round(time.Millisecond))
}

// survivorOf is the first node of all whose crmd runs.
func survivorOf(c *localcluster.Cluster, all []string) string {
	for _, n := range all {
		if c.Alive(n, "vigil-crmd") {
			return n
		}
	}
	return all[0]
}

// stateFiles lists the nodes whose directory holds the state file name.
func stateFiles(c *localcluster.Cluster, nodes []string, name string) []string {
	var out []string
	for _, n := range nodes {
		if _, err := os.Stat(filepath.Join(c.Dir, "nodes", n, name)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

var servedBy = regexp.MustCompile(`<h1>Served by node (\S+)</h1>`)

// pageNode is the node the web page at url names, "" when none answers.
func pageNode(url string) string {
	cl := &http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := servedBy.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}

// killWebServer kills the web server a node's http agent started, as a
// power loss would.
func killWebServer(c *localcluster.Cluster, node string) {
	pidFile := filepath.Join(c.Dir, "nodes", node, "web.pid")
	if b, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	os.Remove(pidFile)
}

// watchOneCopy fails the test if any of files (an agent's state file or
// pidfile, relative to a node's directory) is ever on two nodes at once,
// until the returned function is called. With liveOnly, only nodes whose
// crmd runs count: a fenced or killed node's daemons are gone and it runs
// nothing.
func watchOneCopy(t *testing.T, c *localcluster.Cluster, nodes, files []string, liveOnly bool) func() {
	t.Helper()
	done, stopped := make(chan struct{}), make(chan struct{})
	var bad string
	go func() {
		defer close(stopped)
		for {
			for _, f := range files {
				var on []string
				for _, n := range stateFiles(c, nodes, f) {
					if !liveOnly || c.Alive(n, "vigil-crmd") {
						on = append(on, n)
					}
				}
				if len(on) > 1 {
					bad = fmt.Sprintf("%s on %v at once", f, on)
					return
				}
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		if bad != "" {
			t.Errorf("two copies: %s\n%s", bad, c.Logs(40))
		}
	}
}

// freeTCPPort is a TCP port of 127.0.0.1 free now.
func freeTCPPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
