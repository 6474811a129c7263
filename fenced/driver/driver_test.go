package driver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigil-ha/vigil/internal/pluginsum"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// buildDummy builds plugins/fence-dummy into a plugin directory.
func buildDummy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "fence-dummy"), "github.com/vigil-ha/vigil/plugins/fence-dummy").CombinedOutput()
	if err != nil {
		t.Fatalf("go build fence-dummy: %v\n%s", err, out)
	}
	return dir
}

// TestPlugin drives fence-dummy through every outcome a driver can have:
// success, a failure it reports, a hang past the deadline (killed) and a
// crash; none of the failures may look like a success.
func TestPlugin(t *testing.T) {
	d := New(Config{PluginDir: buildDummy(t)})
	record := filepath.Join(t.TempDir(), "record")
	ctx := func(timeout time.Duration) context.Context {
		c, cancel := context.WithTimeout(context.Background(), timeout)
		t.Cleanup(cancel)
		return c
	}
	msg, err := d.Fence(ctx(20*time.Second), "plugin:fence-dummy", map[string]string{"record_file": record, "pcmk_host_list": "n3"}, "n3", "off")
	if err != nil || !strings.Contains(msg, "off n3 recorded") {
		t.Fatalf("off: %q, %v", msg, err)
	}
	if on, err := d.Status(ctx(20*time.Second), "plugin:fence-dummy", map[string]string{"record_file": record}, "n3"); err != nil || on {
		t.Errorf("status after off: on=%v, %v", on, err)
	}
	if data, _ := os.ReadFile(record); !strings.Contains(string(data), "off n3\n") {
		t.Errorf("record file: %q", data)
	}
	targets, err := d.List(ctx(20*time.Second), "plugin:fence-dummy", map[string]string{"targets": "n1,n2"})
	if err != nil || strings.Join(targets, " ") != "n1 n2" {
		t.Errorf("list: %v, %v", targets, err)
	}
	if _, err := d.List(ctx(20*time.Second), "plugin:fence-dummy", nil); err == nil {
		t.Errorf("list without targets succeeded")
	}
	if _, err := d.Fence(ctx(20*time.Second), "plugin:fence-dummy", map[string]string{"fail": "off"}, "n3", "off"); err == nil || !strings.Contains(err.Error(), "failed as configured") {
		t.Errorf("fail=off: %v", err)
	}
	start := time.Now()
	pidFile := filepath.Join(t.TempDir(), "pid")
	_, err = d.Fence(ctx(1500*time.Millisecond), "plugin:fence-dummy", map[string]string{"delay": "1h", "pid_file": pidFile}, "n3", "off")
	if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "killed") {
		t.Errorf("hanging driver: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("hanging driver took %v to fail", took)
	}
	if data, err := os.ReadFile(pidFile); err == nil {
		pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			if stat, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); !strings.Contains(string(stat), ") Z") {
				t.Errorf("the hanging plugin (pid %d) still runs", pid)
			}
		}
	} else {
		t.Errorf("fence-dummy wrote no pid file: %v", err)
	}
	_, err = d.Fence(ctx(20*time.Second), "plugin:fence-dummy", map[string]string{"crash": "off"}, "n3", "off")
	if err == nil || !strings.Contains(err.Error(), "crashed") {
		t.Errorf("crashing driver: %v", err)
	}
	if _, err := d.Fence(ctx(5*time.Second), "plugin:no-such", nil, "n3", "off"); err == nil {
		t.Errorf("missing plugin succeeded")
	}
}

// TestFenceDummyAgent runs the real fence_dummy of Debian's fence-agents:
// off and status succeed; a bad parameter fails with the agent's words.
func TestFenceDummyAgent(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/fence_dummy"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("fence_dummy missing: scripts/test.sh installs fence-agents")
		}
		t.Skip("Debian's fence-agents is not installed")
	}
	d := New(Config{AgentDir: "/usr/sbin"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status := filepath.Join(t.TempDir(), "status")
	if _, err := d.Fence(ctx, "fence_dummy", map[string]string{"status_file": status, "pcmk_host_list": "n3"}, "n3", "off"); err != nil {
		t.Fatalf("off: %v", err)
	}
	if on, err := d.Status(ctx, "fence_dummy", map[string]string{"status_file": status}, "n3"); err != nil || on {
		t.Errorf("status after off: on=%v, %v", on, err)
	}
	_, err := d.Fence(ctx, "fence_dummy", map[string]string{"random_sleep_range": "abc"}, "n3", "off")
	if err == nil || !strings.Contains(err.Error(), "exit code 1") || !strings.Contains(err.Error(), "invalid literal") {
		t.Errorf("bad parameter: %v", err)
	}
}

// A plugin asked to act after its deadline has passed (earlier levels used
// the request's time) is not started at all: it must not fence and then be
// reported as timed out, and the error must say what happened.
func TestPluginPastDeadlineDoesNotRun(t *testing.T) {
	d := New(Config{PluginDir: buildDummy(t)})
	record := filepath.Join(t.TempDir(), "record")
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := d.Fence(ctx, "plugin:fence-dummy", map[string]string{"record_file": record}, "n3", "off")
	if err == nil || strings.Contains(err.Error(), "after -") || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("past its deadline: %v", err)
	}
	if data, err := os.ReadFile(record); err == nil {
		t.Errorf("the plugin ran past its deadline: %q", data)
	}
}

// TestPluginChecksum: with a checksum file configured, a listed plugin
// with its digest runs, and one whose binary differs from the listed
// digest is refused before it starts, saying why.
func TestPluginChecksum(t *testing.T) {
	dir := buildDummy(t)
	bin, err := os.ReadFile(filepath.Join(dir, "fence-dummy"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bin)
	sums := filepath.Join(t.TempDir(), "SHA256SUMS")
	if err := os.WriteFile(sums, []byte(hex.EncodeToString(sum[:])+"  fence-dummy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := New(Config{PluginDir: dir, ChecksumFile: sums})
	record := filepath.Join(t.TempDir(), "record")
	ctx := func(timeout time.Duration) context.Context {
		c, cancel := context.WithTimeout(context.Background(), timeout)
		t.Cleanup(cancel)
		return c
	}
	if _, err := d.Fence(ctx(20*time.Second), "plugin:fence-dummy", map[string]string{"record_file": record}, "n3", "off"); err != nil {
		t.Fatalf("listed plugin refused: %v", err)
	}
	if err := os.WriteFile(sums, []byte(strings.Repeat("ab", 32)+"  fence-dummy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = d.Fence(ctx(20*time.Second), "plugin:fence-dummy", map[string]string{"record_file": record}, "n3", "off")
	if !errors.Is(err, pluginsum.ErrMismatch) || !strings.Contains(err.Error(), sums) {
		t.Fatalf("plugin with another digest: %v", err)
	}
}
