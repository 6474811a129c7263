package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/internal/localcluster"
)

// TestFencedFailover: three nodes with fencing enabled, the fencing device
// a stonith primitive of the CIB (the fence-local driver, which stops a
// local node's daemons). Killing the node that runs a group gets it fenced,
// and the group starts on a survivor only after the fencing succeeded.
// Then a 1+2 partition: the node alone (which runs the group) loses quorum
// and stops it or is fenced, the majority fences it and starts the group.
// At no moment do the group's resources run on two live nodes (the agents'
// own state files; a fenced node's daemons are gone and run nothing).
func TestFencedFailover(t *testing.T) {
	requireRoot(t)
	c := startCluster(t, 3)
	all := []string{"n1", "n2", "n3"}
	waitFor(t, "three nodes online in vigil status", 60*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, "n1")
		return err == nil && strings.Contains(out, "Online: [ n1 n2 n3 ]") && strings.Contains(out, "partition with quorum"), out
	})
	conf := fmt.Sprintf(`property stonith-enabled=true
property no-quorum-policy=stop
rsc_defaults resource-stickiness=100
primitive fence-all stonith:fence-local params cluster_dir=%s pcmk_host_list="n1 n2 n3"
primitive a plugin:dummy params state=a.state op monitor interval=2s
primitive b plugin:dummy params state=b.state op monitor interval=2s
group g a b
location g-prefers-n1 g 50: n1
`, c.Dir)
	vigilConfigure(t, c, "n1", conf, "load", "-")
	rscs := []string{"a", "b"}
	groupOn := func(what string, nodes []string, ok func(string) bool) string {
		t.Helper()
		var on string
		waitFor(t, what, 90*time.Second, func() (bool, string) {
			a, b := stateFiles(c, nodes, "a.state"), stateFiles(c, nodes, "b.state")
			last := fmt.Sprintf("a on %v, b on %v", a, b)
			if len(a) != 1 || len(b) != 1 || a[0] != b[0] || !ok(a[0]) {
				return false, last
			}
			on = a[0]
			return true, last
		})
		return on
	}
	first := groupOn("the group started on n1", all, func(n string) bool { return n == "n1" })
	stop := watchOneCopy(t, c, all, []string{"a.state", "b.state"}, true)
	defer stop()

	// The node running the group dies.
	killed := time.Now()
	if err := c.KillNode(first); err != nil {
		t.Fatal(err)
	}
	for _, r := range rscs {
		os.Remove(filepath.Join(c.Dir, "nodes", first, r+".state"))
	}
	rest := without(all, first)
	done := waitFenced(t, c, rest[0], first)
	second := groupOn("the group started on a survivor", rest, func(string) bool { return true })
	startedAt := fileTime(t, c, second, "a.state")
	if startedAt.Before(done) {
		t.Errorf("the group started on %s at %s, before the fencing of %s completed at %s", second, startedAt, first, done)
	}
	t.Logf("%s killed: fenced after %v, the group started on %s after %v",
		first, done.Sub(killed).Round(time.Millisecond), second, startedAt.Sub(killed).Round(time.Millisecond))

	// The fenced node comes back; the group stays (stickiness).
	restartNode(t, c, first)
	waitFor(t, "three nodes online again", 60*time.Second, func() (bool, string) {
		out, err := vigilStatus(c, second)
		return err == nil && strings.Contains(out, "Online: [ n1 n2 n3 ]"), out
	})

	// 1+2 partition: the group's node alone.
	fencesBefore := len(fenceSuccesses(t, c, second, second))
	majority := without(all, second)
	cut := time.Now()
	if err := c.Partition([]string{second}, majority); err != nil {
		t.Fatal(err)
	}
	done = waitFencedAfter(t, c, majority[0], second, fencesBefore)
	third := groupOn("the group started in the majority", majority, func(string) bool { return true })
	startedAt = fileTime(t, c, third, "a.state")
	if startedAt.Before(done) {
		t.Errorf("the majority started the group on %s at %s, before the fencing of %s completed at %s", third, startedAt, second, done)
	}
	t.Logf("%s cut off: fenced after %v, the group started on %s after %v",
		second, done.Sub(cut).Round(time.Millisecond), third, startedAt.Sub(cut).Round(time.Millisecond))
	if err := c.Heal(); err != nil {
		t.Fatal(err)
	}
}

func without(all []string, n string) []string {
	var out []string
	for _, m := range all {
		if m != n {
			out = append(out, m)
		}
	}
	return out
}

func fileTime(t *testing.T, c *localcluster.Cluster, node, name string) time.Time {
	t.Helper()
	fi, err := os.Stat(filepath.Join(c.Dir, "nodes", node, name))
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

// fenceSuccesses are the successful fencing entries against target in
// the history asked on node.
func fenceSuccesses(t *testing.T, c *localcluster.Cluster, node, target string) []historyEntry {
	t.Helper()
	h, _ := history(t, c, node)
	var out []historyEntry
	for _, e := range h {
		if e.Target == target && e.State == "STATE_SUCCEEDED" {
			out = append(out, e)
		}
	}
	return out
}

// waitFenced waits until node's fence history has a success against
// target and returns when it completed.
func waitFenced(t *testing.T, c *localcluster.Cluster, node, target string) time.Time {
	t.Helper()
	return waitFencedAfter(t, c, node, target, 0)
}

// waitFencedAfter is waitFenced for the success after the first n.
func waitFencedAfter(t *testing.T, c *localcluster.Cluster, node, target string, n int) time.Time {
	t.Helper()
	var done time.Time
	waitFor(t, target+" fenced (history on "+node+")", 90*time.Second, func() (bool, string) {
		ok := fenceSuccesses(t, c, node, target)
		if len(ok) <= n {
			_, raw := history(t, c, node)
			return false, raw
		}
		at, err := time.Parse(time.RFC3339Nano, ok[len(ok)-1].CompletedAt)
		if err != nil {
			return false, "completedAt: " + err.Error()
		}
		done = at
		return true, ""
	})
	return done
}
