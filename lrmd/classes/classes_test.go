package classes

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigil-ha/vigil/internal/runner"
	"github.com/vigil-ha/vigil/lrmd/agent"
	"github.com/vigil-ha/vigil/lrmd/ocf"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// goodAgent keeps its state in OCF_RESKEY_state.
const goodAgent = `#!/bin/sh
case "$1" in
start) touch "$OCF_RESKEY_state"; exit 0;;
stop) rm -f "$OCF_RESKEY_state"; exit 0;;
monitor) [ -e "$OCF_RESKEY_state" ] && exit 0; exit 7;;
meta-data) echo '<?xml version="1.0"?><resource-agent name="good"></resource-agent>'; echo noise >&2; exit 0;;
*) exit 3;;
esac
`

const failingAgent = `#!/bin/sh
echo "starting" 
echo "${OCF_EXIT_REASON_PREFIX}disk on fire" >&2
exit 1
`

// sleepingAgent ignores SIGTERM and leaves a grandchild that sleeps
// forever; it writes the grandchild's pid and its own to files.
const sleepingAgent = `#!/bin/sh
trap '' TERM
(trap '' TERM; exec sleep 100000) &
echo $! > "$OCF_RESKEY_dir/grandchild"
echo $$ > "$OCF_RESKEY_dir/leader"
sleep 100000
`

const envAgent = `#!/bin/sh
env > "$OCF_RESKEY_out"
exit 0
`

func writeAgent(t *testing.T, root, provider, name, body string, mode os.FileMode) {
	t.Helper()
	dir := filepath.Join(root, "resource.d", provider)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

func testRoot(t *testing.T) string {
	root := t.TempDir()
	writeAgent(t, root, "test", "good", goodAgent, 0o755)
	writeAgent(t, root, "test", "failing", failingAgent, 0o755)
	writeAgent(t, root, "test", "sleeping", sleepingAgent, 0o755)
	writeAgent(t, root, "test", "env", envAgent, 0o755)
	writeAgent(t, root, "test", "notexec", goodAgent, 0o644)
	writeAgent(t, root, "other", "good", goodAgent, 0o755)
	return root
}

func exec1(t *testing.T, c agent.Class, op agent.Operation) agent.Result {
	t.Helper()
	if op.Timeout == 0 {
		op.Timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), op.Timeout)
	defer cancel()
	return c.Exec(ctx, op)
}

func TestOCFListing(t *testing.T) {
	c := NewOCF(OCFConfig{Root: testRoot(t)})
	if err := c.Available(); err != nil {
		t.Fatal(err)
	}
	provs, err := c.Providers()
	if err != nil || !slices.Equal(provs, []string{"other", "test"}) {
		t.Fatalf("Providers() = %v, %v", provs, err)
	}
	agents, err := c.Agents("test")
	if err != nil || !slices.Equal(agents, []string{"env", "failing", "good", "sleeping"}) {
		t.Fatalf("Agents(test) = %v, %v (notexec must not be listed)", agents, err)
	}
	if _, err := c.Agents("nope"); err == nil {
		t.Fatal("Agents(nope): no error")
	}
	md, err := c.Metadata(context.Background(), "test", "good")
	if err != nil || !strings.Contains(string(md), `<resource-agent name="good">`) || strings.Contains(string(md), "noise") {
		t.Fatalf("Metadata = %q, %v", md, err)
	}
	if _, err := c.Metadata(context.Background(), "test", "nope"); err == nil {
		t.Fatal("Metadata of unknown agent: no error")
	}
}

func TestOCFGoodAgent(t *testing.T) {
	c := NewOCF(OCFConfig{Root: testRoot(t)})
	state := filepath.Join(t.TempDir(), "state")
	op := agent.Operation{ResourceID: "r1", Class: "ocf", Provider: "test", Type: "good", Params: map[string]string{"state": state}}
	for _, step := range []struct {
		action string
		code   ocf.ExitCode
	}{{"monitor", ocf.NotRunning}, {"start", ocf.Success}, {"monitor", ocf.Success}, {"stop", ocf.Success}, {"monitor", ocf.NotRunning}, {"promote", ocf.ErrUnimplemented}} {
		op.Action = step.action
		res := exec1(t, c, op)
		if res.Status != agent.StatusDone || res.ExitCode != int(step.code) {
			t.Fatalf("%s: %s %s, want done %s; output %q", step.action, res.Status, ocf.ExitCode(res.ExitCode), step.code, res.Output)
		}
	}
}

func TestOCFFailingAgent(t *testing.T) {
	c := NewOCF(OCFConfig{Root: testRoot(t)})
	res := exec1(t, c, agent.Operation{ResourceID: "r1", Provider: "test", Type: "failing", Action: "start"})
	if res.Status != agent.StatusDone || res.ExitCode != 1 || res.ExitReason != "disk on fire" || !strings.Contains(res.Output, "starting") {
		t.Fatalf("result %+v", res)
	}
}

func TestOCFNotInstalled(t *testing.T) {
	c := NewOCF(OCFConfig{Root: testRoot(t)})
	for _, op := range []agent.Operation{
		{Provider: "test", Type: "nope", Action: "start"},
		{Provider: "nope", Type: "good", Action: "start"},
		{Provider: "test", Type: "notexec", Action: "start"},
		{Provider: "test", Type: "../test/good", Action: "start"},
		{Provider: "", Type: "", Action: "start"},
	} {
		res := exec1(t, c, op)
		if res.Status != agent.StatusNotInstalled || res.ExitCode != int(ocf.ErrInstalled) || !strings.Contains(res.Output, "ocf:") {
			t.Errorf("%s:%s: %+v", op.Provider, op.Type, res)
		}
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return f[0] != "Z" && f[0] != "X"
}

func TestOCFTimeoutKillsGroup(t *testing.T) {
	c := NewOCF(OCFConfig{Root: testRoot(t), RunConfig: RunConfig{Grace: 200 * time.Millisecond}})
	dir := t.TempDir()
	op := agent.Operation{ResourceID: "r1", Provider: "test", Type: "sleeping", Action: "start",
		Timeout: 500 * time.Millisecond, Params: map[string]string{"dir": dir}}
	res := exec1(t, c, op)
	if res.Status != agent.StatusTimedOut {
		t.Fatalf("result %+v", res)
	}
	leader, grandchild := readPid(t, filepath.Join(dir, "leader")), readPid(t, filepath.Join(dir, "grandchild"))
	if alive(grandchild) || alive(leader) {
		t.Fatalf("leader %d alive=%v, grandchild %d alive=%v", leader, alive(leader), grandchild, alive(grandchild))
	}
	if m := runner.GroupMembers(leader); len(m) > 0 {
		t.Fatalf("processes %v of the agent's group survived", m)
	}
}

func TestOCFEnvironment(t *testing.T) {
	root := testRoot(t)
	c := NewOCF(OCFConfig{Root: root})
	out := filepath.Join(t.TempDir(), "env")
	res := exec1(t, c, agent.Operation{
		ResourceID: "web-ip", Provider: "test", Type: "env", Action: "monitor",
		Interval: 10 * time.Second, Timeout: 30 * time.Second,
		Params: map[string]string{"out": out, "ip-address": "10.0.0.1"},
		Meta:   map[string]string{"on-fail": "restart", "target-role": "Started"},
	})
	if res.Status != agent.StatusDone || res.ExitCode != 0 {
		t.Fatalf("result %+v", res)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	env := strings.Split(string(b), "\n")
	for _, want := range []string{
		"OCF_ROOT=" + root, "OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=1",
		"OCF_RESOURCE_INSTANCE=web-ip", "OCF_RESOURCE_TYPE=env", "OCF_RESOURCE_PROVIDER=test",
		"OCF_RESKEY_ip_address=10.0.0.1", "OCF_RESKEY_CRM_meta_on_fail=restart",
		"OCF_RESKEY_CRM_meta_target_role=Started", "OCF_RESKEY_CRM_meta_timeout=30000",
		"OCF_RESKEY_CRM_meta_interval=10000", "OCF_EXIT_REASON_PREFIX=ocf-exit-reason:",
		"PATH=" + DefaultPath,
	} {
		if !slices.Contains(env, want) {
			t.Errorf("environment lacks %s:\n%s", want, b)
		}
	}
}

// realAgents skips the test when the Debian agents are missing, unless
// CI=true.
func realAgents(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("%s missing: install Debian's resource-agents and pacemaker-resource-agents packages (%v)", p, err)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

func TestRealDummyAgents(t *testing.T) {
	realAgents(t, "/usr/lib/ocf/resource.d/heartbeat/Dummy", "/usr/lib/ocf/resource.d/pacemaker/Dummy")
	c := NewOCF(OCFConfig{})
	for _, provider := range []string{"heartbeat", "pacemaker"} {
		t.Run(provider, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "dummy.state")
			op := agent.Operation{ResourceID: "dummy-" + provider, Class: "ocf", Provider: provider, Type: "Dummy",
				Params: map[string]string{"state": state}}
			for _, step := range []struct {
				action string
				code   ocf.ExitCode
			}{{"monitor", ocf.NotRunning}, {"start", ocf.Success}, {"monitor", ocf.Success}, {"stop", ocf.Success}, {"monitor", ocf.NotRunning}} {
				op.Action = step.action
				res := exec1(t, c, op)
				if res.Status != agent.StatusDone || res.ExitCode != int(step.code) {
					t.Fatalf("%s: %s %s, want done %s; output %q", step.action, res.Status, ocf.ExitCode(res.ExitCode), step.code, res.Output)
				}
			}
			md, err := c.Metadata(context.Background(), provider, "Dummy")
			if err != nil || !strings.Contains(string(md), `name="state"`) {
				t.Fatalf("meta-data: %v\n%s", err, md)
			}
		})
	}
	agents, err := c.Agents("heartbeat")
	if err != nil || !slices.Contains(agents, "IPaddr2") || slices.Contains(agents, ".ocf-shellfuncs") {
		t.Fatalf("Agents(heartbeat) = %v, %v", agents, err)
	}
}

func TestRealIPaddr2InNetns(t *testing.T) {
	realAgents(t, "/usr/lib/ocf/resource.d/heartbeat/IPaddr2")
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("IPaddr2 test needs root (CI=true)")
		}
		t.Skip("IPaddr2 test needs root to create a network namespace")
	}
	ipBin, err := exec.LookPath("ip")
	if err != nil {
		t.Fatalf("ip (iproute2) missing: %v", err)
	}
	ns := fmt.Sprintf("vigil-lrmd-test-%d", os.Getpid())
	ip := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(ipBin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	ip("netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command(ipBin, "netns", "del", ns).Run() })
	ip("-n", ns, "link", "set", "lo", "up")
	// A dummy interface when the kernel has the module, else a veth pair
	// (containers often lack the dummy module).
	if err := exec.Command(ipBin, "-n", ns, "link", "add", "vd0", "type", "dummy").Run(); err != nil {
		ip("-n", ns, "link", "add", "vd0", "type", "veth", "peer", "name", "vd1")
		ip("-n", ns, "link", "set", "vd1", "up")
	}
	ip("-n", ns, "link", "set", "vd0", "up")
	ip("-n", ns, "addr", "add", "10.251.0.1/24", "dev", "vd0")

	c := NewOCF(OCFConfig{RunConfig: RunConfig{Wrapper: []string{ipBin, "netns", "exec", ns}}})
	op := agent.Operation{ResourceID: "vip", Class: "ocf", Provider: "heartbeat", Type: "IPaddr2",
		Params: map[string]string{"ip": "10.251.0.42", "cidr_netmask": "24", "nic": "vd0"}}
	run := func(action string, want ocf.ExitCode) {
		t.Helper()
		op.Action = action
		res := exec1(t, c, op)
		if res.Status != agent.StatusDone || res.ExitCode != int(want) {
			t.Fatalf("%s: %s %s, want %s; reason %q output %q", action, res.Status, ocf.ExitCode(res.ExitCode), want, res.ExitReason, res.Output)
		}
	}
	run("monitor", ocf.NotRunning)
	run("start", ocf.Success)
	if out := ip("-n", ns, "addr", "show", "dev", "vd0"); !strings.Contains(out, "10.251.0.42/24") {
		t.Fatalf("address not added:\n%s", out)
	}
	run("monitor", ocf.Success)
	run("stop", ocf.Success)
	if out := ip("-n", ns, "addr", "show", "dev", "vd0"); strings.Contains(out, "10.251.0.42") {
		t.Fatalf("address not removed:\n%s", out)
	}
	run("monitor", ocf.NotRunning)
}

const lsbScript = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          vigiltest
# Required-Start:    $remote_fs
# Short-Description: a test service
# Description:       a test service that
#                    keeps a state file & nothing else
### END INIT INFO
STATE="${STATE_FILE:-/nonexistent}"
case "$1" in
start) touch "$STATE"; exit 0;;
stop) rm -f "$STATE"; exit 0;;
status) [ -e "$STATE" ] && exit 0; exit 3;;
*) exit 3;;
esac
`

func TestLSB(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(filepath.Join(dir, "vigiltest"), []byte(lsbScript), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := NewLSB(LSBConfig{Dir: dir, RunConfig: RunConfig{Env: []string{"PATH=" + DefaultPath, "STATE_FILE=" + state}}})
	agents, err := c.Agents("")
	if err != nil || !slices.Equal(agents, []string{"vigiltest"}) {
		t.Fatalf("Agents = %v, %v", agents, err)
	}
	op := agent.Operation{ResourceID: "svc", Class: "lsb", Type: "vigiltest"}
	for _, step := range []struct {
		action string
		status agent.Status
		code   ocf.ExitCode
	}{
		{"monitor", agent.StatusDone, ocf.NotRunning}, {"start", agent.StatusDone, ocf.Success},
		{"status", agent.StatusDone, ocf.Success}, {"monitor", agent.StatusDone, ocf.Success},
		{"stop", agent.StatusDone, ocf.Success}, {"monitor", agent.StatusDone, ocf.NotRunning},
		{"promote", agent.StatusNotSupported, ocf.ErrUnimplemented},
	} {
		op.Action = step.action
		res := exec1(t, c, op)
		if res.Status != step.status || res.ExitCode != int(step.code) {
			t.Fatalf("%s: %s %s, want %s %s; output %q", step.action, res.Status, ocf.ExitCode(res.ExitCode), step.status, step.code, res.Output)
		}
	}
	md, err := c.Metadata(context.Background(), "", "vigiltest")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<resource-agent name="vigiltest"`, "<shortdesc lang=\"en\">a test service</shortdesc>",
		"keeps a state file &amp; nothing else", "<provides>vigiltest</provides>", `<action name="monitor"`} {
		if !strings.Contains(string(md), want) {
			t.Errorf("meta-data lacks %s:\n%s", want, md)
		}
	}
	if res := exec1(t, c, agent.Operation{Type: "nope", Action: "start"}); res.Status != agent.StatusNotInstalled {
		t.Fatalf("unknown script: %+v", res)
	}
}
