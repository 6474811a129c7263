package executor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigil-ha/vigil/lrmd/agent"
	"github.com/vigil-ha/vigil/lrmd/classes"
	"github.com/vigil-ha/vigil/lrmd/ocf"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const goodAgent = `#!/bin/sh
case "$1" in
start) touch "$OCF_RESKEY_state"; exit 0;;
stop) rm -f "$OCF_RESKEY_state"; exit 0;;
monitor) [ -e "$OCF_RESKEY_state" ] && exit 0; exit 7;;
*) exit 3;;
esac
`

// logAgent appends "begin" and "end" lines around a short busy wait, and
// for the action "wait" blocks until OCF_RESKEY_file exists, for "touch"
// creates it.
const logAgent = `#!/bin/sh
case "$1" in
wait) while [ ! -e "$OCF_RESKEY_file" ]; do sleep 0.01; done; exit 0;;
touch) touch "$OCF_RESKEY_file"; exit 0;;
esac
echo "begin $OCF_RESKEY_n" >> "$OCF_RESKEY_log"
sleep 0.02
echo "end $OCF_RESKEY_n" >> "$OCF_RESKEY_log"
exit 0
`

const sleepAgent = `#!/bin/sh
sleep 100000
`

const trivialAgent = "#!/bin/sh\nexit 0\n"

func newTestExecutor(t testing.TB, opts Options) (*Executor, string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "resource.d", "test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"good": goodAgent, "log": logAgent, "sleep": sleepAgent, "trivial": trivialAgent} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e := NewWithOptions(opts, classes.NewOCF(classes.OCFConfig{Root: root, RunConfig: classes.RunConfig{Grace: 100 * time.Millisecond}}))
	t.Cleanup(e.Close)
	return e, root
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func nextEvent(t *testing.T, ch <-chan Event, match func(Event) bool) Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-ch:
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatal("timed out waiting for an event")
		}
	}
}

func TestExecAndHistory(t *testing.T) {
	e, _ := newTestExecutor(t, Options{})
	state := filepath.Join(t.TempDir(), "state")
	op := agent.Operation{ResourceID: "r1", Class: "ocf", Provider: "test", Type: "good", Params: map[string]string{"state": state}}
	for _, step := range []struct {
		action string
		code   ocf.ExitCode
	}{{"start", ocf.Success}, {"monitor", ocf.Success}, {"stop", ocf.Success}, {"monitor", ocf.NotRunning}} {
		op.Action = step.action
		res := e.Exec(context.Background(), op)
		if res.Status != agent.StatusDone || res.ExitCode != int(step.code) {
			t.Fatalf("%s: %+v", step.action, res)
		}
	}
	h := e.History("r1")
	if len(h) != 3 || h[0].Op.Action != "monitor" || h[1].Op.Action != "start" || h[2].Op.Action != "stop" {
		t.Fatalf("history %+v", h)
	}
	if h[0].Result.ExitCode != 7 || h[0].CallID != 4 || h[1].CallID != 1 || h[0].Result.ExecTime <= 0 {
		t.Fatalf("history %+v", h)
	}
	if res := e.Exec(context.Background(), agent.Operation{ResourceID: "r2", Class: "nope", Type: "x", Action: "start"}); res.Status != agent.StatusNotInstalled {
		t.Fatalf("unknown class: %+v", res)
	}
	if got := e.Resources(); len(got) != 2 {
		t.Fatalf("Resources() = %v", got)
	}
}

func TestTimeoutAndCallerCancel(t *testing.T) {
	e, _ := newTestExecutor(t, Options{})
	op := agent.Operation{ResourceID: "r1", Class: "ocf", Provider: "test", Type: "sleep", Action: "start", Timeout: 200 * time.Millisecond}
	if res := e.Exec(context.Background(), op); res.Status != agent.StatusTimedOut {
		t.Fatalf("timeout: %+v", res)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitFor(t, "the operation to run", func() bool {
			h := e.History("r2")
			return len(h) == 1 && h[0].Result.Status == agent.StatusPending
		})
		cancel()
	}()
	op.ResourceID, op.Timeout = "r2", time.Minute
	if res := e.Exec(ctx, op); res.Status != agent.StatusCancelled {
		t.Fatalf("caller cancel: %+v", res)
	}
	waitFor(t, "the killed operation in history", func() bool {
		h := e.History("r2")
		return len(h) == 1 && h[0].Result.Status == agent.StatusCancelled
	})
}

func TestSameResourceSerialDifferentParallel(t *testing.T) {
	e, _ := newTestExecutor(t, Options{})
	log := filepath.Join(t.TempDir(), "log")
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Exec(context.Background(), agent.Operation{ResourceID: "r1", Class: "ocf", Provider: "test", Type: "log", Action: "start",
				Params: map[string]string{"log": log, "n": string(rune('a' + i))}})
		}()
	}
	wg.Wait()
	b, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 12 {
		t.Fatalf("log %q", b)
	}
	for i := 0; i < len(lines); i += 2 {
		if !strings.HasPrefix(lines[i], "begin ") || lines[i+1] != "end "+strings.TrimPrefix(lines[i], "begin ") {
			t.Fatalf("operations of one resource overlapped:\n%s", b)
		}
	}

	// r1 waits for a file that only r2 creates: it completes only if the
	// two resources run in parallel.
	file := filepath.Join(t.TempDir(), "flag")
	done := make(chan agent.Result, 1)
	go func() {
		done <- e.Exec(context.Background(), agent.Operation{ResourceID: "r1", Class: "ocf", Provider: "test", Type: "log", Action: "wait",
			Timeout: 20 * time.Second, Params: map[string]string{"file": file}})
	}()
	waitFor(t, "r1 to run", func() bool {
		for _, h := range e.History("r1") {
			if h.Op.Action == "wait" && h.Result.Status == agent.StatusPending {
				return true
			}
		}
		return false
	})
	if res := e.Exec(context.Background(), agent.Operation{ResourceID: "r2", Class: "ocf", Provider: "test", Type: "log", Action: "touch",
		Params: map[string]string{"file": file}}); res.ExitCode != 0 {
		t.Fatalf("touch: %+v", res)
	}
	if res := <-done; res.Status != agent.StatusDone || res.ExitCode != 0 {
		t.Fatalf("wait: %+v", res)
	}
}

func TestRecurringMonitor(t *testing.T) {
	e, _ := newTestExecutor(t, Options{})
	events, unsubscribe := e.Subscribe()
	defer unsubscribe()
	state := filepath.Join(t.TempDir(), "state")
	base := agent.Operation{ResourceID: "r1", Class: "ocf", Provider: "test", Type: "good", Params: map[string]string{"state": state}}
	start := base
	start.Action = "start"
	if res := e.Exec(context.Background(), start); res.ExitCode != 0 {
		t.Fatalf("start: %+v", res)
	}
	mon := base
	mon.Action, mon.Interval = "monitor", 200*time.Millisecond
	id, err := e.StartRecurring(mon)
	if err != nil {
		t.Fatal(err)
	}
	if dup, err := e.StartRecurring(mon); err != nil || dup != id {
		t.Fatalf("duplicate: call id %d (want %d), %v", dup, id, err)
	}
	if ops := e.Recurring("r1"); len(ops) != 1 {
		t.Fatalf("Recurring = %+v", ops)
	}
	isMon := func(ev Event) bool { return ev.Op.Action == "monitor" && ev.Op.Interval > 0 }
	first := nextEvent(t, events, isMon)
	if first.CallID != id || first.Result.Status != agent.StatusDone || first.Result.ExitCode != 0 {
		t.Fatalf("first monitor event %+v", first)
	}
	// Let the monitor run twice more: unchanged results are not published.
	runsAfter := func(t0 time.Time, n int) func() bool {
		seen := map[time.Time]bool{}
		return func() bool {
			for _, h := range e.History("r1") {
				if h.Op.Interval > 0 && h.Result.Started.After(t0) {
					seen[h.Result.Started] = true
				}
			}
			return len(seen) >= n
		}
	}
	waitFor(t, "two more monitor runs", runsAfter(first.Result.Started, 2))
	if err := os.Remove(state); err != nil {
		t.Fatal(err)
	}
	change := nextEvent(t, events, isMon)
	if change.Result.ExitCode != int(ocf.NotRunning) || change.Result.Status != agent.StatusDone {
		t.Fatalf("change event %+v", change)
	}
	waitFor(t, "two more monitor runs", runsAfter(change.Result.Started, 2))
	select {
	case ev := <-events:
		t.Fatalf("unexpected event for an unchanged result: %+v", ev)
	default:
	}
	stop := base
	stop.Action = "stop"
	if res := e.Exec(context.Background(), stop); res.ExitCode != 0 {
		t.Fatalf("stop: %+v", res)
	}
	cancelled := nextEvent(t, events, isMon)
	if cancelled.Result.Status != agent.StatusCancelled {
		t.Fatalf("after stop: %+v", cancelled)
	}
	if ops := e.Recurring("r1"); len(ops) != 0 {
		t.Fatalf("stop left recurring operations %+v", ops)
	}
	if err := e.Cancel("r1", "monitor", mon.Interval); err == nil {
		t.Fatal("Cancel after stop: no error")
	}
}

func TestCancelAndClose(t *testing.T) {
	e, _ := newTestExecutor(t, Options{EventBuffer: 1})
	_, unsubscribe := e.Subscribe() // never read: must not block the executor
	defer unsubscribe()
	state := filepath.Join(t.TempDir(), "state")
	for _, r := range []string{"a", "b", "c"} {
		if _, err := e.StartRecurring(agent.Operation{ResourceID: r, Class: "ocf", Provider: "test", Type: "good", Action: "monitor",
			Interval: 50 * time.Millisecond, Params: map[string]string{"state": state}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Cancel("a", "monitor", 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := e.StartRecurring(agent.Operation{ResourceID: "x", Action: "monitor"}); err == nil {
		t.Fatal("recurring without interval accepted")
	}
	for range 5 {
		e.Exec(context.Background(), agent.Operation{ResourceID: "d", Class: "ocf", Provider: "test", Type: "trivial", Action: "start"})
	}
	// A long operation in flight when the executor closes is killed.
	done := make(chan agent.Result, 1)
	go func() {
		done <- e.Exec(context.Background(), agent.Operation{ResourceID: "s", Class: "ocf", Provider: "test", Type: "sleep", Action: "start"})
	}()
	waitFor(t, "the sleeping operation to run", func() bool {
		h := e.History("s")
		return len(h) == 1 && h[0].Result.Status == agent.StatusPending
	})
	e.Close()
	if res := <-done; res.Status != agent.StatusCancelled {
		t.Fatalf("in flight at Close: %+v", res)
	}
	if res := e.Exec(context.Background(), agent.Operation{ResourceID: "d", Class: "ocf", Provider: "test", Type: "trivial", Action: "start"}); res.Status != agent.StatusError {
		t.Fatalf("after Close: %+v", res)
	}
}
