package scheduler

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// The differential test's defaults: CI runs diffCases generated clusters
// from diffSeed. DIFF_SEED and DIFF_CASES change them; DIFF_OUT=dir keeps
// every CIB and both summaries; DIFF_STRICT=1 fails on every mismatch, not
// only on cases of the ratchet testdata/passing-diff.txt; DIFF_RATCHET=file
// writes the passing cases to file.
const (
	diffSeed  = 20260601
	diffCases = 240
	// diffTicketCases more cases come from genClusterTickets (numbered
	// after the others; DIFF_TICKET_CASES changes how many).
	diffTicketCases = 60
)

var (
	masterRE = regexp.MustCompile(` Master( |\[|$)`)
)

// normalizePacemaker rewrites crm_simulate's output the way the expected
// summaries of ../shared/pcmk-scheduler were (README.md there): ocf:: →
// ocf:, Masters/Slaves → Promoted/Unpromoted.
func normalizePacemaker(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		l = strings.ReplaceAll(l, "ocf::", "ocf:")
		l = strings.Replace(l, "Masters:", "Promoted:", 1)
		l = strings.Replace(l, "Slaves:", "Unpromoted:", 1)
		if loc := masterRE.FindStringSubmatchIndex(l); loc != nil {
			l = l[:loc[0]] + " Promoted" + l[loc[2]:loc[3]] + l[loc[1]:]
		}
		l = strings.Replace(l, " Slave ", " Unpromoted ", 1)
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// simulateFile is what `vigil simulate -x FILE -S` prints for a CIB.
func simulateFile(data []byte, now time.Time) (string, error) {
	c, err := cib.Decode(bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	return Schedule(InputFor(c, now)).Text(), nil
}

func envInt(name string, def int64) int64 {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return def
}

// diffCaseSeed is the generator seed of case i of a run with seed s.
func diffCaseSeed(s int64, i int) int64 { return s*100003 + int64(i) }

type diffResult struct {
	i                 int
	path, cib         string
	pcmk, vigil       string
	err               error
	trans, acts, full bool
	// pcmkCrash is set when crm_simulate aborted (an assertion of its own)
	// before printing a transition.
	pcmkCrash string
}

// TestDifferential generates random small clusters (genCluster), runs the
// real crm_simulate -S and Vigil's scheduler on each and compares the
// Transition Summary and the executed actions as sorted lists, as
// score.py does. Every mismatch is reported with the seed, the case, the
// CIB and both outputs; it fails the test when the case is in the ratchet
// testdata/passing-diff.txt (or always with DIFF_STRICT=1). Cases where
// crm_simulate itself aborts are skipped and counted. It skips when
// crm_simulate is not installed, except under CI=true (scripts/test.sh
// installs pacemaker-cli-utils).
func TestDifferential(t *testing.T) {
	bin, err := exec.LookPath("crm_simulate")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("crm_simulate not found (Debian package pacemaker-cli-utils): the differential test must run in CI")
		}
		t.Skip("crm_simulate not found: install pacemaker-cli-utils to compare with Pacemaker")
	}
	seed := envInt("DIFF_SEED", diffSeed)
	plain := int(envInt("DIFF_CASES", diffCases))
	n := plain + int(envInt("DIFF_TICKET_CASES", diffTicketCases))
	dir := os.Getenv("DIFF_OUT")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	results := make([]diffResult, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = runDiffCase(bin, dir, seed, i, i >= plain)
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	ratchet := readList(filepath.Join("testdata", "passing-diff.txt"))
	strict := os.Getenv("DIFF_STRICT") != ""
	var nT, nA, nF, compared int
	var failed, passing, skipped []string
	for _, r := range results {
		if r.err != nil {
			t.Errorf("seed %d case %d (%s): %v\n%s", seed, r.i, r.path, r.err, r.cib)
			continue
		}
		if r.pcmkCrash != "" {
			// Pacemaker itself failed on the input: nothing to compare.
			skipped = append(skipped, strconv.Itoa(r.i))
			t.Logf("seed %d case %d: skipped, crm_simulate crashed: %s", seed, r.i, r.pcmkCrash)
			continue
		}
		compared++
		if r.trans {
			nT++
		}
		if r.acts {
			nA++
		}
		if r.full {
			nF++
		}
		name := fmt.Sprintf("%d/%d", seed, r.i)
		if r.trans && r.acts {
			passing = append(passing, name)
			continue
		}
		failed = append(failed, strconv.Itoa(r.i))
		report := t.Logf
		if strict || ratchet[name] {
			report = t.Errorf
		}
		report("seed %d case %d: Vigil differs from crm_simulate (transition match %v, actions match %v)\nCIB %s:\n%s\n--- crm_simulate -S:\n%s\n--- vigil simulate -S:\n%s",
			seed, r.i, r.trans, r.acts, r.path, r.cib, r.pcmk, r.vigil)
	}
	t.Logf("seed %d, %d cases (%d compared, %d skipped): transition %d/%d actions %d/%d full %d/%d",
		seed, n, compared, len(skipped), nT, compared, nA, compared, nF, compared)
	if len(failed) > 0 {
		t.Logf("differing cases: %s", strings.Join(failed, " "))
	}
	if f := os.Getenv("DIFF_RATCHET"); f != "" {
		_ = os.WriteFile(f, []byte(strings.Join(passing, "\n")+"\n"), 0o644)
	}
}

func runDiffCase(bin, dir string, seed int64, i int, tickets bool) diffResult {
	r := diffResult{i: i}
	if tickets {
		r.cib = genClusterTickets(diffCaseSeed(seed, i))
	} else {
		r.cib = genCluster(diffCaseSeed(seed, i))
	}
	r.path = filepath.Join(dir, fmt.Sprintf("case-%d.xml", i))
	if err := os.WriteFile(r.path, []byte(r.cib), 0o644); err != nil {
		r.err = err
		return r
	}
	cmd := exec.Command(bin, "-x", r.path, "-S")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	r.pcmk = normalizePacemaker(string(out))
	if err != nil {
		switch {
		case !strings.Contains(r.pcmk, "\nExecuting Cluster Transition:"):
			r.pcmkCrash = fmt.Sprintf("%v (no transition printed)", err)
			return r
		case strings.Contains(r.pcmk, "Triggered fatal assertion"):
			r.pcmkCrash = fmt.Sprintf("%v (fatal assertion)", err)
			return r
		case strings.Contains(r.pcmk, "\nTransition failed: terminated"):
			// Its simulated execution stopped part way (an invalid
			// graph): the transition summary is whole, the executed
			// actions are not, so only the summary is compared.
		default:
			r.err = fmt.Errorf("crm_simulate: %v\n%s", err, out)
			return r
		}
	}
	r.vigil, err = simulateFile([]byte(r.cib), time.Now())
	if err != nil {
		r.err = fmt.Errorf("vigil: %v", err)
		return r
	}
	r.trans, r.acts, r.full = compareSummary(r.pcmk, r.vigil)
	if strings.Contains(r.pcmk, "\nTransition failed: terminated") {
		r.acts, r.full = true, false
	}
	_ = os.WriteFile(strings.TrimSuffix(r.path, ".xml")+".pcmk", []byte(r.pcmk), 0o644)
	_ = os.WriteFile(strings.TrimSuffix(r.path, ".xml")+".vigil", []byte(r.vigil), 0o644)
	return r
}
