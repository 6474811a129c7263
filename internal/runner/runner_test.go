package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "agent")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCodeAndOutput(t *testing.T) {
	p := script(t, "echo out; echo err >&2; exit 3\n")
	o := Run(context.Background(), Command{Path: p, Env: []string{"PATH=/usr/bin:/bin"}})
	if o.Err != nil || o.ExitCode != 3 || o.Stdout != "out\n" || o.Stderr != "err\n" || o.Killed {
		t.Fatalf("outcome %+v", o)
	}
}

func TestOutputBounded(t *testing.T) {
	p := script(t, "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done\n")
	o := Run(context.Background(), Command{Path: p, MaxOutput: 100})
	if !o.StdoutTruncated || len(o.Stdout) != 100 || !strings.HasSuffix(o.Stdout, "line-199\n") {
		t.Fatalf("stdout %q truncated=%v", o.Stdout, o.StdoutTruncated)
	}
}

func TestWrapper(t *testing.T) {
	p := script(t, "exit 4\n")
	o := Run(context.Background(), Command{Path: p, Wrapper: []string{"/usr/bin/env"}})
	if o.ExitCode != 4 {
		t.Fatalf("outcome %+v", o)
	}
}

func TestStartFailure(t *testing.T) {
	o := Run(context.Background(), Command{Path: "/nonexistent/agent"})
	if o.Err == nil || o.ExitCode != -1 {
		t.Fatalf("outcome %+v", o)
	}
}

// TestTimeoutKillsGroup: an agent that ignores SIGTERM and leaves a
// grandchild that ignores it too; after the timeout nothing of the group
// may be left.
func TestTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild")
	p := script(t, `trap '' TERM
(trap '' TERM; exec sleep 1000) &
echo $! > `+pidFile+`
echo started
sleep 1000
`)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	o := Run(ctx, Command{Path: p, Grace: 200 * time.Millisecond})
	if !o.Killed || !errors.Is(o.Err, context.DeadlineExceeded) || o.Stdout != "started\n" {
		t.Fatalf("outcome %+v", o)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if alive(pid) {
		t.Fatalf("grandchild %d survived", pid)
	}
	if m := GroupMembers(o.PID); len(m) > 0 {
		t.Fatalf("processes %v of group %d survived", m, o.PID)
	}
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
