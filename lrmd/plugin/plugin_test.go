package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigil-ha/vigil/lrmd/agent"
)

// binDir holds the plugins built once for the whole package.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "vigil-plugin-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go env GOMOD:", err)
		return 1
	}
	build := exec.Command("go", "build", "-o", dir+"/", "./plugins/dummy", "./plugins/http", "./plugins/examples/hello")
	build.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building plugins: %v\n%s", err, out)
		return 1
	}
	binDir = dir
	code := m.Run()
	if code == 0 {
		// go-plugin's client leaves no goroutines behind after Kill; the
		// gRPC and TLS machinery neither. Nothing is ignored.
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			return 1
		}
	}
	return code
}

// newClass returns a class over a fresh directory holding copies of the
// named built plugins.
func newClass(t *testing.T, plugins ...string) (*Class, string) {
	t.Helper()
	dir := t.TempDir()
	for _, p := range plugins {
		copyFile(t, filepath.Join(binDir, p), filepath.Join(dir, p))
	}
	cfg := DefaultConfig()
	cfg.Dir = dir
	c, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return c, dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func op(typ, action string, params map[string]string) agent.Operation {
	return agent.Operation{ResourceID: "r1", Class: ClassName, Type: typ, Action: action, Timeout: 10 * time.Second, Params: params}
}

func expect(t *testing.T, c *Class, o agent.Operation, status agent.Status, code int) agent.Result {
	t.Helper()
	r := c.Exec(context.Background(), o)
	t.Logf("%s %s: %v/%d in %v", o.Type, o.Action, r.Status, r.ExitCode, r.ExecTime)
	if r.Status != status || r.ExitCode != code {
		t.Fatalf("%s %s: got %v/%d (%q), want %v/%d\n%s", o.Type, o.Action, r.Status, r.ExitCode, r.ExitReason, status, code, r.Output)
	}
	return r
}

// pluginProcesses returns the pids of processes running the binary path.
func pluginProcesses(t *testing.T, path string) []int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == path {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestDiscovery(t *testing.T) {
	c, dir := newClass(t, "dummy", "hello")
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("not executable"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Available(); err != nil {
		t.Fatal(err)
	}
	if p, err := c.Providers(); p != nil || err != nil {
		t.Errorf("providers = %v, %v", p, err)
	}
	got, err := c.Agents("")
	if err != nil || strings.Join(got, ",") != "dummy,hello" {
		t.Errorf("agents = %v, %v", got, err)
	}
	expect(t, c, op("nosuch", "start", nil), agent.StatusNotInstalled, 0)
	expect(t, c, op("../dummy", "start", nil), agent.StatusNotInstalled, 0)
	if _, err := c.Metadata(context.Background(), "", "nosuch"); err == nil {
		t.Error("metadata of a missing agent")
	}
	cfg := DefaultConfig()
	cfg.Dir = filepath.Join(dir, "missing")
	missing, _ := New(cfg, nil)
	if err := missing.Available(); err == nil {
		t.Error("a missing directory is available")
	}
}

func TestDummyLifecycle(t *testing.T) {
	c, _ := newClass(t, "dummy")
	params := map[string]string{"state": filepath.Join(t.TempDir(), "state")}
	expect(t, c, op("dummy", "monitor", params), agent.StatusDone, 7)
	expect(t, c, op("dummy", "start", params), agent.StatusDone, 0)
	expect(t, c, op("dummy", "monitor", params), agent.StatusDone, 0)
	expect(t, c, op("dummy", "stop", params), agent.StatusDone, 0)
	expect(t, c, op("dummy", "monitor", params), agent.StatusDone, 7)
	expect(t, c, op("dummy", "promote", params), agent.StatusDone, 3)
	params["fail_action"], params["fail_code"] = "monitor", "6"
	r := expect(t, c, op("dummy", "monitor", params), agent.StatusDone, 6)
	if !strings.Contains(r.ExitReason, "fail_action") {
		t.Errorf("exit reason %q", r.ExitReason)
	}
}

func TestHello(t *testing.T) {
	c, _ := newClass(t, "hello")
	params := map[string]string{"name": "world", "file": filepath.Join(t.TempDir(), "greeting")}
	expect(t, c, op("hello", "validate-all", nil), agent.StatusDone, 6)
	expect(t, c, op("hello", "start", params), agent.StatusDone, 0)
	b, _ := os.ReadFile(params["file"])
	if string(b) != "Hello, world\n" {
		t.Errorf("greeting %q", b)
	}
	expect(t, c, op("hello", "monitor", params), agent.StatusDone, 0)
	expect(t, c, op("hello", "stop", params), agent.StatusDone, 0)
	expect(t, c, op("hello", "monitor", params), agent.StatusDone, 7)
}

func TestMetadata(t *testing.T) {
	c, _ := newClass(t, "dummy")
	md, err := c.Metadata(context.Background(), "", "dummy")
	if err != nil {
		t.Fatal(err)
	}
	var doc raXML
	if err := xml.Unmarshal(md, &doc); err != nil {
		t.Fatalf("%v\n%s", err, md)
	}
	if doc.Name != "dummy" || len(doc.Parameters) == 0 || doc.Parameters[0].Name != "state" || doc.Parameters[0].Unique != 1 {
		t.Errorf("meta-data:\n%s", md)
	}
	var actions []string
	for _, a := range doc.Actions {
		actions = append(actions, a.Name)
	}
	if got := strings.Join(actions, ","); !strings.Contains(got, "start,stop,monitor") || !strings.Contains(got, "meta-data") {
		t.Errorf("actions %s", got)
	}
	r := expect(t, c, op("dummy", "meta-data", nil), agent.StatusDone, 0)
	if r.Output != string(md) {
		t.Error("the meta-data action differs from Metadata")
	}
}

func TestTimeoutKillsPlugin(t *testing.T) {
	c, dir := newClass(t, "dummy")
	o := op("dummy", "start", map[string]string{"state": filepath.Join(t.TempDir(), "state"), "start_delay": "30s"})
	o.Timeout = 500 * time.Millisecond
	start := time.Now()
	r := c.Exec(context.Background(), o)
	if r.Status != agent.StatusTimedOut {
		t.Fatalf("status %v, want timed out\n%s", r.Status, r.Output)
	}
	// Not a performance bound: the agent would sleep 30 s, so returning
	// well before that shows the plugin was killed, not waited for.
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("timed-out operation took %v: it waited for the plugin's 30 s delay", el)
	}
	if pids := pluginProcesses(t, filepath.Join(dir, "dummy")); len(pids) > 0 {
		t.Errorf("plugin processes left after the timeout: %v", pids)
	}
}

func TestCrashMidOperation(t *testing.T) {
	c, dir := newClass(t, "dummy", "hello")
	r := c.Exec(context.Background(), op("dummy", "start", map[string]string{"state": filepath.Join(t.TempDir(), "state"), "crash_action": "start"}))
	if r.Status != agent.StatusError || !strings.Contains(r.Output, "failed during start") || !strings.Contains(r.Output, "crashing during start") {
		t.Fatalf("got %v\n%s", r.Status, r.Output)
	}
	if pids := pluginProcesses(t, filepath.Join(dir, "dummy")); len(pids) > 0 {
		t.Errorf("plugin processes left: %v", pids)
	}
	// The class keeps working, for other plugins and the same one.
	expect(t, c, op("hello", "monitor", map[string]string{"name": "x", "file": filepath.Join(t.TempDir(), "g")}), agent.StatusDone, 7)
	expect(t, c, op("dummy", "monitor", map[string]string{"state": filepath.Join(t.TempDir(), "state")}), agent.StatusDone, 7)
}

func TestNotAPlugin(t *testing.T) {
	c, dir := newClass(t, "dummy")
	scripts := map[string]string{
		"true":    "#!/bin/sh\nexit 0\n",
		"chatter": "#!/bin/sh\necho hello there\nsleep 1\n",
		"mute":    "#!/bin/sh\nexec sleep 30\n",
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name := range scripts {
		t.Run(name, func(t *testing.T) {
			o := op(name, "start", nil)
			o.Timeout = 2 * time.Second
			r := c.Exec(context.Background(), o)
			switch name {
			case "mute":
				// Silent until the deadline: indistinguishable from a slow
				// plugin, so it is the operation's timeout.
				if r.Status != agent.StatusTimedOut {
					t.Fatalf("got %v\n%s", r.Status, r.Output)
				}
			default:
				if r.Status != agent.StatusError || !strings.Contains(r.Output, "not a Vigil agent plugin") {
					t.Fatalf("got %v\n%s", r.Status, r.Output)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if _, err := c.Metadata(ctx, "", name); err == nil {
				t.Error("meta-data of a non-plugin")
			}
		})
	}
	expect(t, c, op("dummy", "monitor", map[string]string{"state": filepath.Join(t.TempDir(), "state")}), agent.StatusDone, 7)
}

func TestChecksum(t *testing.T) {
	c, dir := newClass(t, "dummy", "hello")
	sum := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%x", sha256.Sum256(b))
	}
	sums := filepath.Join(t.TempDir(), "SHA256SUMS")
	// dummy is right, hello is listed with dummy's digest.
	content := "# plugins\n" + sum("dummy") + "  dummy\n" + sum("dummy") + " *hello\n"
	if err := os.WriteFile(sums, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	c.cfg.ChecksumFile = sums
	expect(t, c, op("dummy", "monitor", map[string]string{"state": filepath.Join(t.TempDir(), "state")}), agent.StatusDone, 7)
	r := c.Exec(context.Background(), op("hello", "monitor", map[string]string{"name": "x"}))
	if r.Status != agent.StatusError || !strings.Contains(r.Output, "refused") || !strings.Contains(r.Output, sum("hello")) {
		t.Fatalf("got %v\n%s", r.Status, r.Output)
	}
	copyFile(t, filepath.Join(binDir, "dummy"), filepath.Join(dir, "unlisted"))
	r = c.Exec(context.Background(), op("unlisted", "monitor", nil))
	if r.Status != agent.StatusError || !strings.Contains(r.Output, "not listed") {
		t.Fatalf("got %v\n%s", r.Status, r.Output)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func TestHTTP(t *testing.T) {
	c, _ := newClass(t, "http")
	port := freePort(t)
	params := map[string]string{"address": "127.0.0.1", "port": port, "node": "node-7", "pidfile": filepath.Join(t.TempDir(), "http.pid")}
	expect(t, c, op("http", "monitor", params), agent.StatusDone, 7)
	expect(t, c, op("http", "start", params), agent.StatusDone, 0)
	t.Cleanup(func() { c.Exec(context.Background(), op("http", "stop", params)) })
	resp, err := http.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "node-7") {
		t.Errorf("GET: %d %s", resp.StatusCode, body)
	}
	expect(t, c, op("http", "monitor", params), agent.StatusDone, 0)
	expect(t, c, op("http", "start", params), agent.StatusDone, 0)
	expect(t, c, op("http", "stop", params), agent.StatusDone, 0)
	if _, err := http.Get("http://127.0.0.1:" + port + "/"); err == nil {
		t.Error("the server still answers after stop")
	}
	expect(t, c, op("http", "monitor", params), agent.StatusDone, 7)
	expect(t, c, op("http", "stop", params), agent.StatusDone, 0)
}
