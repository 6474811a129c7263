package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/internal/localcluster"
)

// historyEntry is the part of `vigil stonith ... -o json` the tests read.
type historyEntry struct {
	ID          string `json:"id"`
	Target      string `json:"target"`
	Action      string `json:"action"`
	State       string `json:"state"`
	Origin      string `json:"origin"`
	Executioner string `json:"executioner"`
	Device      string `json:"device"`
	ExitReason  string `json:"exitReason"`
	Level       int    `json:"level"`
	RequestedAt string `json:"requestedAt"`
	CompletedAt string `json:"completedAt"`
}

// stonith runs `vigil stonith ARGS --dir DIR --node NODE` and returns its
// output and exit status.
func stonith(t *testing.T, c *localcluster.Cluster, node string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "vigil"), append(append([]string{"stonith"}, args...), "--dir", c.Dir, "--node", node)...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("vigil stonith %v: %v", args, err)
	}
	return string(out), 0
}

// waitFor polls cond until it holds or deadline passes; last describes
// the latest state for the failure message.
func waitFor(t *testing.T, what string, deadline time.Duration, cond func() (ok bool, last string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for {
		ok, last := cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %v; last:\n%s", what, deadline, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// mustStonith runs a vigil stonith command that must succeed, retrying
// while the node's fenced has not joined the fence group yet.
func mustStonith(t *testing.T, c *localcluster.Cluster, node string, args ...string) string {
	t.Helper()
	var out string
	waitFor(t, fmt.Sprintf("vigil stonith %s on %s", strings.Join(args, " "), node), 30*time.Second, func() (bool, string) {
		var code int
		out, code = stonith(t, c, node, args...)
		return code == 0, out
	})
	return out
}

// fence runs `vigil stonith fence` on node and returns the entry it
// answered with and how long it took.
func fence(t *testing.T, c *localcluster.Cluster, node string, args ...string) (historyEntry, time.Duration) {
	t.Helper()
	start := time.Now()
	out, code := stonith(t, c, node, append([]string{"fence", "-o", "json"}, args...)...)
	took := time.Since(start)
	var resp struct {
		Entry historyEntry `json:"entry"`
	}
	// The JSON comes first; a failure's message follows on stderr.
	if i := strings.Index(out, "{"); i < 0 || json.NewDecoder(strings.NewReader(out[i:])).Decode(&resp) != nil {
		t.Fatalf("vigil stonith fence %v: exit %d, no entry:\n%s", args, code, out)
	}
	if wantCode := map[bool]int{true: 0, false: 1}[resp.Entry.State == "STATE_SUCCEEDED"]; code != wantCode {
		t.Errorf("vigil stonith fence %v: exit %d with state %s", args, code, resp.Entry.State)
	}
	return resp.Entry, took
}

func history(t *testing.T, c *localcluster.Cluster, node string) ([]historyEntry, string) {
	t.Helper()
	out, code := stonith(t, c, node, "history", "-o", "json")
	var resp struct {
		Entries []historyEntry `json:"entries"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &resp) != nil {
		return nil, fmt.Sprintf("exit %d: %s", code, out)
	}
	return resp.Entries, out
}

// sameHistory waits until every node shows the same history, holding
// the entry id, and returns it.
func sameHistory(t *testing.T, c *localcluster.Cluster, nodes []string, id string) []historyEntry {
	t.Helper()
	var ref []historyEntry
	waitFor(t, "the same fence history on "+strings.Join(nodes, ", "), 30*time.Second, func() (bool, string) {
		var last strings.Builder
		ref = nil
		for i, n := range nodes {
			h, raw := history(t, c, n)
			fmt.Fprintf(&last, "%s: %s\n", n, raw)
			if !hasEntry(h, id) {
				return false, last.String()
			}
			if i == 0 {
				ref = h
			} else if !reflect.DeepEqual(h, ref) {
				return false, last.String()
			}
		}
		return true, ""
	})
	return ref
}

func hasEntry(h []historyEntry, id string) bool {
	for _, e := range h {
		if e.ID == id {
			return true
		}
	}
	return false
}

// buildFencePlugins builds the STONITH plugins into a plugin directory.
func buildFencePlugins(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./plugins/fence-dummy", "./plugins/fence-local")
	build.Dir = moduleRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build the fence plugins: %v\n%s", err, out)
	}
	return dir
}

// TestFencing fences node n3 of a 3-node cluster from n1 through a
// topology whose first level fails, then drives every kind of bad input
// and checks each ends, in bounded time, as a failed entry that every
// node's history shows alike; finally the fence-local driver really stops
// n3.
func TestFencing(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/fence_dummy"); err != nil {
		if ciRun() {
			t.Fatal("/usr/sbin/fence_dummy is missing: scripts/test.sh installs fence-agents")
		}
		t.Skip("skipped: Debian's fence-agents is not installed (scripts/test.sh installs it)")
	}
	c := startClusterWith(t, localcluster.Options{Nodes: 3, PluginDir: buildFencePlugins(t)})
	all := []string{"n1", "n2", "n3"}
	tmp := t.TempDir()

	// Devices on n2 for n3: the plugin fence-dummy told to fail, and the
	// real fence_dummy agent; level 1 is the failing one.
	mustStonith(t, c, "n2", "register", "dfail", "plugin:fence-dummy", "record_file="+filepath.Join(tmp, "dfail.rec"), "fail=off,reboot", "pcmk_host_list=n3")
	mustStonith(t, c, "n2", "register", "agent", "fence_dummy", "status_file="+filepath.Join(tmp, "agent.status"), "pcmk_host_list=n3")
	mustStonith(t, c, "n1", "level", "add", "n3", "1", "dfail")
	mustStonith(t, c, "n1", "level", "add", "n3", "2", "agent")
	for _, n := range all {
		waitFor(t, "devices and levels known on "+n, 30*time.Second, func() (bool, string) {
			devs, _ := stonith(t, c, n, "list-devices")
			levels, _ := stonith(t, c, n, "level", "list")
			return strings.Contains(devs, "dfail") && strings.Contains(devs, "agent") && strings.Contains(levels, "n3 level 2: agent"), devs + levels
		})
	}

	e, took := fence(t, c, "n1", "n3", "--off")
	t.Logf("fence n3 from n1: %s by %s in %v: %s", e.State, e.Executioner, took, e.ExitReason)
	if e.State != "STATE_SUCCEEDED" || e.Origin != "n1" || e.Executioner != "n2" || e.Device != "agent" || e.Level != 2 {
		t.Errorf("fence n3: %+v", e)
	}
	if !strings.Contains(e.ExitReason, "level 1: device dfail on n2: failed") || !strings.Contains(e.ExitReason, "level 2: device agent on n2: succeeded") {
		t.Errorf("the reason does not show level 1 failing then level 2: %s", e.ExitReason)
	}
	if rec, _ := os.ReadFile(filepath.Join(tmp, "dfail.rec")); !strings.Contains(string(rec), "off n3") {
		t.Errorf("fence-dummy did not record the off of n3: %q", rec)
	}
	devs, _ := stonith(t, c, "n3", "list-devices")
	if !regexpLine(devs, `agent\s+fence_dummy\s+n2\s+static-list\s+n3`) {
		t.Errorf("list-devices on n3 does not show agent hosted on n2 for n3:\n%s", devs)
	}
	sameHistory(t, c, all, e.ID)

	// Bad input: each fails clearly, soon, with the same entry everywhere.
	type badCase struct {
		name  string
		setup func()
		args  []string
		want  []string
		bound time.Duration
	}
	hangPID := filepath.Join(tmp, "hang.pid")
	for _, bc := range []badCase{
		{name: "unknown target", args: []string{"n9"}, want: []string{`unknown target "n9"`}, bound: 10 * time.Second},
		{name: "no capable device", args: []string{"n1"}, want: []string{"no device can fence n1", "dfail cannot fence n1"}, bound: 10 * time.Second},
		{name: "target hosts the only device", setup: func() {
			mustStonith(t, c, "n2", "register", "self", "plugin:fence-dummy", "pcmk_host_list=n2")
		}, args: []string{"n2"}, want: []string{"no device can fence n2", "the target itself (self-fencing not allowed)"}, bound: 10 * time.Second},
		{name: "hanging driver", setup: func() {
			mustStonith(t, c, "n1", "register", "hang", "plugin:fence-dummy", "delay=1h", "pid_file="+hangPID, "pcmk_host_list=n2")
		}, args: []string{"n2", "--timeout", "3s"}, want: []string{"device hang on n1: failed", "timed out after 3s", "killed"}, bound: 15 * time.Second},
		{name: "crashing driver", setup: func() {
			mustStonith(t, c, "n1", "unregister", "hang")
			mustStonith(t, c, "n3", "register", "crash", "plugin:fence-dummy", "crash=off,reboot", "pcmk_host_list=n1")
		}, args: []string{"n1"}, want: []string{"device crash on n3: failed", "crashed"}, bound: 20 * time.Second},
		{name: "fence agent with bad parameters", setup: func() {
			mustStonith(t, c, "n1", "register", "badagent", "fence_dummy", "random_sleep_range=abc", "pcmk_host_list=n2")
		}, args: []string{"n2", "--off"}, want: []string{"device badagent on n1: failed", "exit code 1", "invalid literal"}, bound: 20 * time.Second},
	} {
		if bc.setup != nil {
			bc.setup()
		}
		e, took := fence(t, c, "n1", bc.args...)
		t.Logf("%s: %s in %v: %s", bc.name, e.State, took, e.ExitReason)
		if e.State != "STATE_FAILED" {
			t.Errorf("%s: state %s, want failed: %+v", bc.name, e.State, e)
		}
		for _, w := range bc.want {
			if !strings.Contains(e.ExitReason, w) {
				t.Errorf("%s: reason lacks %q: %s", bc.name, w, e.ExitReason)
			}
		}
		if took > bc.bound {
			t.Errorf("%s: took %v, want under %v", bc.name, took, bc.bound)
		}
		h := sameHistory(t, c, all, e.ID)
		for _, he := range h {
			if he.ID == e.ID && he.State != "STATE_FAILED" {
				t.Errorf("%s: history has %s", bc.name, he.State)
			}
		}
	}
	// The hanging plugin was killed, not left behind.
	if data, err := os.ReadFile(hangPID); err != nil {
		t.Errorf("the hanging plugin wrote no pid: %v", err)
	} else if pid, _ := strconv.Atoi(strings.TrimSpace(string(data))); pid > 0 {
		waitFor(t, "the hanging plugin gone", 10*time.Second, func() (bool, string) {
			err := syscall.Kill(pid, 0)
			stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			return err != nil || strings.Contains(string(stat), ") Z "), string(stat)
		})
	}

	// Manual confirmation records a success without running a device.
	out := mustStonith(t, c, "n2", "confirm", "n1", "-o", "json")
	var conf struct {
		Entry historyEntry `json:"entry"`
	}
	if err := json.Unmarshal([]byte(out), &conf); err != nil || conf.Entry.State != "STATE_SUCCEEDED" || conf.Entry.Device != "manual" {
		t.Errorf("confirm n1: %v\n%s", err, out)
	}
	sameHistory(t, c, all, conf.Entry.ID)

	// The real driver: fence-local on n1 kills n3's daemons.
	mustStonith(t, c, "n1", "register", "local", "plugin:fence-local", "cluster_dir="+c.Dir, "pcmk_host_list=n3")
	mustStonith(t, c, "n1", "level", "remove", "n3", "1")
	mustStonith(t, c, "n1", "level", "remove", "n3", "2")
	mustStonith(t, c, "n1", "level", "add", "n3", "1", "local")
	e, took = fence(t, c, "n1", "n3", "--off")
	t.Logf("fence-local n3: %s by %s in %v: %s", e.State, e.Executioner, took, e.ExitReason)
	if e.State != "STATE_SUCCEEDED" || e.Executioner != "n1" || e.Device != "local" || !strings.Contains(e.ExitReason, "killed") {
		t.Errorf("fence-local of n3: %+v", e)
	}
	for _, d := range localcluster.Daemons {
		if c.Alive("n3", d) {
			t.Errorf("%s of n3 still runs after fence-local reported success", d)
		}
	}
	sameHistory(t, c, []string{"n1", "n2"}, e.ID)
}

func regexpLine(text, pattern string) bool {
	for _, line := range strings.Split(text, "\n") {
		if ok, _ := regexp.MatchString(pattern, line); ok {
			return true
		}
	}
	return false
}
