package scheduler

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// synthCIB returns the CIB ../shared/pcmk-scheduler/synth writes for
// nodes × resources: cold.py (nothing runs yet) or, for steady, steady.py
// on the placement of the cold CIB (every resource already running where
// the scheduler puts it). The files are cached in dir.
func synthCIB(tb testing.TB, dir string, steady bool, nodes, rscs int) []byte {
	tb.Helper()
	synth := filepath.Join(caseDir(tb), "synth")
	if _, err := os.Stat(filepath.Join(synth, "cold.py")); err != nil {
		tb.Skipf("synth scripts not found at %s", synth)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		tb.Skip("python3 not found: cannot run the synth scripts")
	}
	cold := filepath.Join(dir, fmt.Sprintf("cold-%d-%d.xml", nodes, rscs))
	if _, err := os.Stat(cold); err != nil {
		out, err := exec.Command("python3", filepath.Join(synth, "cold.py"), fmt.Sprint(nodes), fmt.Sprint(rscs)).Output()
		if err != nil {
			tb.Fatalf("cold.py: %v", err)
		}
		if err := os.WriteFile(cold, out, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	coldXML, err := os.ReadFile(cold)
	if err != nil {
		tb.Fatal(err)
	}
	if !steady {
		return coldXML
	}
	path := filepath.Join(dir, fmt.Sprintf("steady-%d-%d.xml", nodes, rscs))
	if b, err := os.ReadFile(path); err == nil {
		return b
	}
	// steady.py reads the starts of a transition graph: write those of
	// Vigil's graph for the cold CIB in Pacemaker's graph syntax.
	c, err := cib.Decode(bytes.NewReader(coldXML))
	if err != nil {
		tb.Fatal(err)
	}
	var g strings.Builder
	for _, a := range Schedule(Input{CIB: c, Now: time.Unix(genExecDate, 0)}).Graph.Executed() {
		if a.Task == "start" && a.Node != nil {
			fmt.Fprintf(&g, "<rsc_op id=\"%d\" operation=\"start\" operation_key=\"%s_start_0\" on_node=\"%s\"/>\n", a.ID, a.Name, a.Node.Name)
		}
	}
	graph := filepath.Join(dir, fmt.Sprintf("graph-%d-%d.exp", nodes, rscs))
	if err := os.WriteFile(graph, []byte(g.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command("python3", filepath.Join(synth, "steady.py"), fmt.Sprint(nodes), fmt.Sprint(rscs), cold, graph).Output()
	if err != nil {
		tb.Fatalf("steady.py: %v", err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		tb.Fatal(err)
	}
	return out
}

// BenchmarkSchedule measures decoding and scheduling the synthetic CIBs of
// issue 6 (what `vigil simulate -x FILE` does before printing). Run with
//
//	go test -run '^$' -bench Schedule -benchmem ./crmd/scheduler/
//
// SCHED_BENCH_DIR keeps the generated CIBs between runs.
func BenchmarkSchedule(b *testing.B) { benchSynth(b, false) }

// BenchmarkSimulate also renders the crm_simulate -S text (status before
// and after, summary, executed actions): all of `vigil simulate -x F -S`.
func BenchmarkSimulate(b *testing.B) { benchSynth(b, true) }

func benchSynth(b *testing.B, text bool) {
	dir := os.Getenv("SCHED_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	cases := []struct {
		steady      bool
		nodes, rscs int
	}{
		{false, 16, 100}, {false, 16, 1000}, {false, 16, 2000}, {false, 32, 10000},
		{true, 16, 100}, {true, 16, 1000}, {true, 16, 2000},
	}
	for _, tc := range cases {
		kind := "cold"
		if tc.steady {
			kind = "steady"
		}
		b.Run(fmt.Sprintf("%s-%dx%d", kind, tc.nodes, tc.rscs), func(b *testing.B) {
			data := synthCIB(b, dir, tc.steady, tc.nodes, tc.rscs)
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c, err := cib.Decode(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				res := Schedule(Input{CIB: c, Now: time.Unix(genExecDate, 0)})
				if len(res.Graph.Actions) == 0 {
					b.Fatal("no actions")
				}
				if text {
					_ = res.Text()
				}
			}
		})
	}
}
