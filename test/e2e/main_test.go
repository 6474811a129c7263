// Package e2e starts real Vigil daemons as real processes, each node of a
// cluster with its own loopback address, through the same harness as
// `vigil cluster up`, and checks them from the outside with gRPC clients.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigil-ha/vigil/internal/localcluster"
)

// binDir holds the binaries built once for all tests.
var binDir string

// moduleRoot is the repository's top directory.
var moduleRoot string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go env GOMOD:", err)
		return 1
	}
	moduleRoot = filepath.Dir(strings.TrimSpace(string(out)))
	dir, err := os.MkdirTemp("", "vigil-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	build := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./cmd/...")
	build.Dir = moduleRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/...: %v\n%s", err, out)
		return 1
	}
	// The shipped plugins, where the harness points every node's
	// vigil.plugin_dir by default.
	build = exec.Command("go", "build", "-o", filepath.Join(dir, "plugins")+string(os.PathSeparator), "./plugins/dummy", "./plugins/http", "./plugins/fence-local")
	build.Dir = moduleRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./plugins/...: %v\n%s", err, out)
		return 1
	}
	binDir = dir
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			return 1
		}
	}
	// Every process the tests started from the built binaries (daemons,
	// plugin agents and what they daemonised) must be gone: leftovers
	// are killed, and fail the run.
	if left := processesUnder(dir); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "processes left running by the tests (killed now):\n%s\n", strings.Join(left, "\n"))
		return 1
	}
	return code
}

// processesUnder kills and lists the processes whose executable is in dir.
func processesUnder(dir string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || !strings.HasPrefix(exe, dir+string(os.PathSeparator)) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		syscall.Kill(pid, syscall.SIGKILL)
		out = append(out, fmt.Sprintf("  pid %d: %s", pid, strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")))
	}
	return out
}

// startCluster starts a local cluster for one test and stops it when the
// test ends; when the test failed, the daemons' logs are printed.
func startCluster(t *testing.T, nodes int) *localcluster.Cluster {
	t.Helper()
	return startClusterWith(t, localcluster.Options{Nodes: nodes})
}

// startClusterWith is startCluster with more options; Dir and BinDir are
// the test's.
func startClusterWith(t *testing.T, opts localcluster.Options) *localcluster.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts.Dir, opts.BinDir = t.TempDir(), binDir
	c, err := localcluster.Up(ctx, opts)
	if err != nil {
		t.Fatalf("cluster up: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daemon logs:\n%s", c.Logs(60))
		}
		if err := c.Down(context.Background()); err != nil {
			t.Errorf("cluster down: %v", err)
		}
	})
	return c
}
