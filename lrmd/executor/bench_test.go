package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/lrmd/agent"
	"github.com/vigil-ha/vigil/lrmd/classes"
)

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkExec measures one one-shot operation of a trivial agent
// (#!/bin/sh exit 0) through the executor: end to end (latency-p50/p99)
// and the executor's own overhead, i.e. minus the agent's run as the class
// measured it (overhead-p50/p99).
func BenchmarkExec(b *testing.B) {
	e, _ := newTestExecutor(b, Options{})
	op := agent.Operation{ResourceID: "r", Class: "ocf", Provider: "test", Type: "trivial", Action: "monitor"}
	total := make([]time.Duration, 0, b.N)
	over := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		res := e.Exec(context.Background(), op)
		d := time.Since(t0)
		if res.ExitCode != 0 {
			b.Fatalf("%+v", res)
		}
		total = append(total, d)
		over = append(over, d-res.ExecTime)
	}
	b.ReportMetric(float64(percentile(total, 0.5).Microseconds()), "latency-p50-µs")
	b.ReportMetric(float64(percentile(total, 0.99).Microseconds()), "latency-p99-µs")
	b.ReportMetric(float64(percentile(over, 0.5).Microseconds()), "overhead-p50-µs")
	b.ReportMetric(float64(percentile(over, 0.99).Microseconds()), "overhead-p99-µs")
}

// startRecorder wraps a class and records when each resource's runs start.
type startRecorder struct {
	agent.Class
	mu     sync.Mutex
	starts map[string][]time.Time
}

func (r *startRecorder) Exec(ctx context.Context, op agent.Operation) agent.Result {
	r.mu.Lock()
	r.starts[op.ResourceID] = append(r.starts[op.ResourceID], time.Now())
	r.mu.Unlock()
	return r.Class.Exec(ctx, op)
}

// TestRecurringCapacity measures how many recurring 1 s monitors of a
// trivial agent one executor sustains with the period drifting less than
// 10 % (p99 of (actual period - interval) / interval). It is a
// measurement, not an assertion: it runs only with VIGIL_LRMD_CAPACITY=1
// and prints its figures.
func TestRecurringCapacity(t *testing.T) {
	if os.Getenv("VIGIL_LRMD_CAPACITY") != "1" {
		t.Skip("measurement; run with VIGIL_LRMD_CAPACITY=1 go test -run TestRecurringCapacity -v ./lrmd/executor")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "resource.d", "test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trivial"), []byte(trivialAgent), 0o755); err != nil {
		t.Fatal(err)
	}
	counts := []int{100, 250, 500, 1000, 2000, 4000}
	if s := os.Getenv("VIGIL_LRMD_CAPACITY_COUNTS"); s != "" {
		counts = nil
		for f := range slices.Values(splitComma(s)) {
			n, _ := strconv.Atoi(f)
			counts = append(counts, n)
		}
	}
	const interval = time.Second
	const window = 6 * time.Second
	best := 0
	for _, n := range counts {
		rec := &startRecorder{Class: classes.NewOCF(classes.OCFConfig{Root: root}), starts: map[string][]time.Time{}}
		e := New(rec)
		for i := range n {
			if _, err := e.StartRecurring(agent.Operation{ResourceID: fmt.Sprintf("r%d", i), Class: "ocf", Provider: "test",
				Type: "trivial", Action: "monitor", Interval: interval}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(window) // a measurement window, not a synchronisation
		e.Close()
		var drift []time.Duration
		for _, s := range rec.starts {
			// Skip the first period: all monitors start at once.
			for i := 2; i < len(s); i++ {
				drift = append(drift, s[i].Sub(s[i-1])-interval)
			}
		}
		p50, p99 := percentile(drift, 0.5), percentile(drift, 0.99)
		ok := p99 < interval/10 && len(drift) > 0
		t.Logf("%5d monitors every %s: %6d periods, drift p50 %6.2f%% p99 %6.2f%% sustained=%v",
			n, interval, len(drift), 100*p50.Seconds()/interval.Seconds(), 100*p99.Seconds()/interval.Seconds(), ok)
		if !ok {
			break
		}
		best = n
	}
	t.Logf("sustained without drift above 10%%: %d monitors of 1 s", best)
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
