package scheduler

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/internal/pcmkcases"
)

// caseDir finds Pacemaker's scheduler regression cases.
func caseDir(t testing.TB) string {
	dir, err := pcmkcases.Dir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

var spaceRE = regexp.MustCompile(`\s+`)

func normLine(l string) string { return strings.TrimSpace(spaceRE.ReplaceAllString(l, " ")) }

// summaryBlocks splits a summary into its titled blocks as score.py does.
func summaryBlocks(text string) map[string][]string {
	out := map[string][]string{}
	title := ""
	for _, line := range strings.Split(text, "\n") {
		if line != "" && line[0] != ' ' && line[0] != '\t' && strings.HasSuffix(strings.TrimRight(line, " \t"), ":") {
			title = strings.TrimSpace(line)
			out[title] = []string{}
		} else if title != "" && strings.TrimSpace(line) != "" {
			out[title] = append(out[title], normLine(line))
		}
	}
	return out
}

func sameSorted(a, b []string) bool {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

func flat(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, normLine(l))
		}
	}
	return out
}

// compareSummary scores a summary against the expected one at the three
// levels of score.py.
func compareSummary(exp, act string) (transition, actions, full bool) {
	eb, ab := summaryBlocks(exp), summaryBlocks(act)
	transition = sameSorted(eb["Transition Summary:"], ab["Transition Summary:"])
	actions = sameSorted(eb["Executing Cluster Transition:"], ab["Executing Cluster Transition:"])
	full = strings.Join(flat(exp), "\n") == strings.Join(flat(act), "\n")
	return
}

func readList(path string) map[string]bool {
	out := map[string]bool{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out[l] = true
		}
	}
	return out
}

// TestConformance runs every case of Pacemaker's scheduler regression
// subset and compares the summaries; a case of the ratchet
// testdata/passing-actions.txt that stops passing fails the test.
func TestConformance(t *testing.T) {
	dir := caseDir(t)
	if _, err := os.Stat(filepath.Join(dir, "xml")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("scheduler cases missing at %s", dir)
		}
		t.Skipf("scheduler cases not found at %s", dir)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "xml", "*.xml"))
	out := t.TempDir()
	ratchet := readList(filepath.Join("testdata", "passing-actions.txt"))
	var nT, nA, nF int
	var failA []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		exp, err := os.ReadFile(filepath.Join(dir, "summary", name+".summary"))
		if err != nil {
			continue
		}
		c, err := cib.Unmarshal(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		in := Input{CIB: c, Now: time.Now()}
		if t, ok := ExecutionDate(c); ok {
			in.Now, in.FromExecutionDate = t, true
		}
		text := Schedule(in).Text()
		_ = os.WriteFile(filepath.Join(out, name+".summary"), []byte(text), 0o644)
		tr, ac, fu := compareSummary(string(exp), text)
		if tr {
			nT++
		}
		if ac {
			nA++
		} else {
			failA = append(failA, name)
			if ratchet[name] {
				t.Errorf("%s: no longer passes at the actions level", name)
			}
		}
		if fu {
			nF++
		}
		if os.Getenv("SCHED_VERBOSE") != "" {
			t.Logf("%s: transition=%v actions=%v full=%v", name, tr, ac, fu)
		}
	}
	if d := os.Getenv("SCHED_OUT"); d != "" {
		_ = os.MkdirAll(d, 0o755)
		fs, _ := filepath.Glob(filepath.Join(out, "*.summary"))
		for _, f := range fs {
			b, _ := os.ReadFile(f)
			_ = os.WriteFile(filepath.Join(d, filepath.Base(f)), b, 0o644)
		}
	}
	m := len(files)
	t.Logf("transition %d/%d actions %d/%d full %d/%d", nT, m, nA, m, nF, m)
	t.Logf("failing at actions: %s", strings.Join(failA, " "))
}
