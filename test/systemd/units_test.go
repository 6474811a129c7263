// Package systemd_test checks the systemd units in deploy/systemd: that
// systemd itself accepts them (systemd-analyze verify) and that they keep
// the start, restart, dependency and sandboxing choices documented in
// deploy/systemd/README.md.
package systemd_test

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// unitDir holds the units, relative to this package's directory (where go
// test runs the test binary).
const unitDir = "../../deploy/systemd"

const (
	configPath = "/etc/vigil/vigil.conf"
	docURL     = "file:/usr/share/doc/vigil/README.md"
)

// daemons are the five Vigil daemons; each has vigil-NAME.service.
var daemons = []string{"messagingd", "quorumd", "crmd", "lrmd", "fenced"}

func serviceName(daemon string) string { return "vigil-" + daemon + ".service" }

// allUnits lists the unit files under test: the five services and the target.
func allUnits() []string {
	units := []string{"vigil.target"}
	for _, d := range daemons {
		units = append(units, serviceName(d))
	}
	return units
}

// execStartRE matches the ExecStart= line of a Vigil service and captures
// the binary's name.
var execStartRE = regexp.MustCompile(`(?m)^ExecStart=/usr/sbin/(vigil-[a-z]+) `)

// conditionRE matches the ConditionPathExists= line on the configuration.
var conditionRE = regexp.MustCompile(`(?m)^ConditionPathExists=` + regexp.QuoteMeta(configPath) + `$`)

// verifier runs systemd-analyze verify on copies of the units that
// systemd-analyze can check on any machine: ExecStart= points at small
// scripts it creates, ConditionPathExists= at a file that exists.
type verifier struct {
	analyze string // path of systemd-analyze
	// recursiveErrors is whether systemd-analyze knows
	// --recursive-errors= (systemd 250 and later): with "no", a warning
	// about a unit given on the command line makes the exit status non-zero,
	// while warnings about the machine's own units (pulled in as
	// dependencies) do not. Without the option the exit status ignores
	// warnings, and only the check of stderr catches them.
	recursiveErrors bool
}

// newVerifier finds systemd-analyze. Where it is missing the test is
// skipped, except in CI (CI=true), whose image installs Debian's systemd
// package precisely so that this test runs.
func newVerifier(t *testing.T) verifier {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("systemd-analyze not found on PATH (%v); CI must install the systemd package for this test", err)
		}
		t.Skipf("systemd-analyze not found on PATH (%v): install systemd (Debian: apt-get install systemd) to verify the units; with CI=true this is a failure", err)
	}
	help, err := exec.CommandContext(t.Context(), analyze, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --help: %v\n%s", analyze, err, help)
	}
	return verifier{analyze: analyze, recursiveErrors: bytes.Contains(help, []byte("--recursive-errors"))}
}

// stage copies the units from src into a new temporary directory, rewritten
// for verification, and returns that directory. edit, if not nil, may
// change a unit's text after the rewrite.
func stage(t *testing.T, src string, edit func(unit, text string) string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "vigil.conf")
	if err := os.WriteFile(conf, []byte("# stand-in for "+configPath+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, unit := range allUnits() {
		data, err := os.ReadFile(filepath.Join(src, unit))
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if strings.HasSuffix(unit, ".service") {
			m := execStartRE.FindAllStringSubmatch(text, -1)
			if len(m) != 1 {
				t.Fatalf("%s: want one ExecStart=/usr/sbin/vigil-NAME line, found %d", unit, len(m))
			}
			name := m[0][1]
			script := filepath.Join(bin, name)
			if err := os.WriteFile(script, []byte("#!/bin/sh\n# stand-in for /usr/sbin/"+name+"\nexit 0\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			text = execStartRE.ReplaceAllLiteralString(text, "ExecStart="+script+" ")
			if !conditionRE.MatchString(text) {
				t.Fatalf("%s: no ConditionPathExists=%s line", unit, configPath)
			}
			text = conditionRE.ReplaceAllLiteralString(text, "ConditionPathExists="+conf)
		}
		if edit != nil {
			text = edit(unit, text)
		}
		if err := os.WriteFile(filepath.Join(dir, unit), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// verify runs systemd-analyze verify on unit in dir (the units it depends
// on are found beside it) and returns what is wrong: a non-zero exit status,
// or lines of stderr that mention a Vigil unit or the staging directory.
// Other stderr lines are about the machine's own units; they are logged.
func (v verifier) verify(t *testing.T, dir, unit string) []string {
	t.Helper()
	args := []string{"verify", "--man=no", "--generators=no"}
	if v.recursiveErrors {
		args = append(args, "--recursive-errors=no")
	}
	args = append(args, filepath.Join(dir, unit))
	cmd := exec.CommandContext(t.Context(), v.analyze, args...)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0", "SYSTEMD_PAGER=", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()

	var problems []string
	if err != nil {
		problems = append(problems, fmt.Sprintf("%s %s: %v", v.analyze, strings.Join(args, " "), err))
	}
	for line := range strings.Lines(stderr.String()) {
		line = strings.TrimRight(line, "\n")
		if line == "" {
			continue
		}
		if strings.Contains(line, "vigil") || strings.Contains(line, dir) {
			problems = append(problems, line)
		} else {
			t.Logf("%s: systemd-analyze, about another unit: %s", unit, line)
		}
	}
	if len(problems) > 0 && stdout.Len() > 0 {
		problems = append(problems, "stdout:\n"+stdout.String())
	}
	return problems
}

func TestSystemdAnalyzeVerify(t *testing.T) {
	v := newVerifier(t)
	dir := stage(t, unitDir, nil)
	for _, unit := range allUnits() {
		t.Run(unit, func(t *testing.T) {
			if problems := v.verify(t, dir, unit); len(problems) > 0 {
				t.Errorf("systemd-analyze verify %s:\n%s", unit, strings.Join(problems, "\n"))
			}
		})
	}
}

// TestSystemdAnalyzeVerifyCatchesMistakes makes sure the check above can
// fail: systemd-analyze only warns about an unknown key and, without
// --recursive-errors, still exits 0.
func TestSystemdAnalyzeVerifyCatchesMistakes(t *testing.T) {
	v := newVerifier(t)
	unit := serviceName("quorumd")
	cases := []struct {
		name string
		edit func(text string) string
	}{
		{"unknown key", func(text string) string {
			return strings.Replace(text, "[Service]\n", "[Service]\nRestartSecs=2s\n", 1)
		}},
		{"missing binary", func(text string) string {
			return regexp.MustCompile(`(?m)^ExecStart=\S+`).ReplaceAllLiteralString(text, "ExecStart=/nonexistent/vigil-quorumd")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := stage(t, unitDir, func(name, text string) string {
				if name != unit {
					return text
				}
				return c.edit(text)
			})
			if problems := v.verify(t, dir, unit); len(problems) == 0 {
				t.Errorf("systemd-analyze verify found nothing wrong with %s with a %s", unit, c.name)
			}
		})
	}
}

// unitFile is a unit file parsed as systemd reads it: for each section and
// key, the values assigned, in order.
type unitFile struct {
	name     string
	sections map[string]map[string][]string
}

func parseUnit(t *testing.T, path string) unitFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unitFile{name: filepath.Base(path), sections: map[string]map[string][]string{}}
	var section, pending string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if pending != "" {
			line = pending + " " + line
			pending = ""
		}
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending = strings.TrimSuffix(line, `\`)
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = line[1 : len(line)-1]
			if u.sections[section] == nil {
				u.sections[section] = map[string][]string{}
			}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || section == "" {
			t.Fatalf("%s:%d: not a key=value line in a section: %q", path, n, line)
		}
		key = strings.TrimSpace(key)
		u.sections[section][key] = append(u.sections[section][key], strings.TrimSpace(value))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// value returns the value in effect for a single-valued key (the last
// assignment) and whether the key is set at all.
func (u unitFile) value(section, key string) (string, bool) {
	vs := u.sections[section][key]
	if len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

// list returns the items of a list-valued key (Requires=, After=, ...): the
// space-separated items of every assignment, an empty assignment resetting
// the list.
func (u unitFile) list(section, key string) []string {
	var items []string
	for _, v := range u.sections[section][key] {
		if v == "" {
			items = nil
			continue
		}
		items = append(items, strings.Fields(v)...)
	}
	return items
}

// vigilUnits returns the Vigil units among items, sorted.
func vigilUnits(items []string) []string {
	var out []string
	for _, it := range items {
		if strings.HasPrefix(it, "vigil") {
			out = append(out, it)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func parseAll(t *testing.T) map[string]unitFile {
	t.Helper()
	units := map[string]unitFile{}
	for _, name := range allUnits() {
		units[name] = parseUnit(t, filepath.Join(unitDir, name))
	}
	return units
}

func TestServicesStartAndRestart(t *testing.T) {
	units := parseAll(t)
	for _, d := range daemons {
		u := units[serviceName(d)]
		t.Run(u.name, func(t *testing.T) {
			want := []struct{ section, key, value string }{
				{"Unit", "ConditionPathExists", configPath},
				{"Service", "Type", "notify"},
				{"Service", "ExecStart", "/usr/sbin/vigil-" + d + " --config " + configPath},
				{"Service", "EnvironmentFile", "-/etc/default/vigil"},
				{"Service", "Restart", "on-failure"},
				{"Service", "RestartSec", "2s"},
			}
			for _, w := range want {
				if got, ok := u.value(w.section, w.key); got != w.value {
					t.Errorf("[%s] %s=%q (set: %v), want %q", w.section, w.key, got, ok, w.value)
				}
			}
			if _, ok := u.value("Service", "LimitNOFILE"); !ok {
				t.Errorf("[Service] LimitNOFILE= is not set")
			}
			if docs := u.list("Unit", "Documentation"); !slices.Contains(docs, docURL) {
				t.Errorf("[Unit] Documentation=%v, want it to include %s", docs, docURL)
			}
			if got := u.list("Install", "WantedBy"); !slices.Equal(got, []string{"multi-user.target"}) {
				t.Errorf("[Install] WantedBy=%v, want [multi-user.target]", got)
			}
		})
	}
}

// TestDependencies pins the layering of the stack; deploy/systemd/README.md
// explains it.
func TestDependencies(t *testing.T) {
	const (
		messaging = "vigil-messagingd.service"
		quorum    = "vigil-quorumd.service"
		crm       = "vigil-crmd.service"
		lrm       = "vigil-lrmd.service"
		fence     = "vigil-fenced.service"
		target    = "vigil.target"
	)
	type deps struct{ requires, wants, after []string }
	want := map[string]deps{
		messaging: {},
		quorum:    {requires: []string{messaging}, after: []string{messaging}},
		fence:     {requires: []string{messaging}, after: []string{messaging}},
		crm: {
			requires: []string{messaging},
			wants:    []string{fence, lrm, quorum},
			after:    []string{fence, lrm, messaging, quorum},
		},
		lrm: {},
	}
	units := parseAll(t)
	for _, name := range slices.Sorted(maps.Keys(want)) {
		u, w := units[name], want[name]
		t.Run(name, func(t *testing.T) {
			for _, c := range []struct {
				key  string
				want []string
			}{
				{"Requires", w.requires},
				{"Wants", w.wants},
				{"After", w.after},
				// BindsTo= would leave the dependents stopped after a crash
				// and automatic restart of vigil-messagingd.
				{"BindsTo", nil},
				{"Requisite", nil},
				{"Before", nil},
				{"PartOf", []string{target}},
			} {
				got := vigilUnits(u.list("Unit", c.key))
				if !slices.Equal(got, c.want) {
					t.Errorf("[Unit] %s= Vigil units %v, want %v", c.key, got, c.want)
				}
			}
		})
	}

	t.Run(target, func(t *testing.T) {
		u := units[target]
		services := []string{crm, fence, lrm, messaging, quorum}
		if got := vigilUnits(u.list("Unit", "Wants")); !slices.Equal(got, services) {
			t.Errorf("[Unit] Wants= Vigil units %v, want %v", got, services)
		}
		if got := u.list("Install", "WantedBy"); !slices.Equal(got, []string{"multi-user.target"}) {
			t.Errorf("[Install] WantedBy=%v, want [multi-user.target]", got)
		}
	})
}

// TestStopping pins how long systemd waits for a graceful stop, and what it
// kills: crmd and lrmd stop the node's resources first.
func TestStopping(t *testing.T) {
	want := map[string]map[string]string{
		serviceName("crmd"):       {"TimeoutStopSec": "30min", "SendSIGKILL": "no"},
		serviceName("lrmd"):       {"TimeoutStopSec": "30min", "SendSIGKILL": "no", "KillMode": "process", "OOMPolicy": "continue", "TasksMax": "infinity"},
		serviceName("fenced"):     {"TimeoutStopSec": "5min", "KillMode": "mixed"},
		serviceName("messagingd"): {"TimeoutStopSec": "2min"},
		serviceName("quorumd"):    {"TimeoutStopSec": "2min"},
	}
	units := parseAll(t)
	for _, name := range slices.Sorted(maps.Keys(want)) {
		u := units[name]
		for _, key := range slices.Sorted(maps.Keys(want[name])) {
			value := want[name][key]
			if got, ok := u.value("Service", key); got != value {
				t.Errorf("%s: [Service] %s=%q (set: %v), want %q", name, key, got, ok, value)
			}
		}
	}
}

// TestSandboxing checks that the daemons that never run agents are
// sandboxed, and that the ones whose agents act on the whole node are not
// restricted in ways that would break those agents or what they start.
func TestSandboxing(t *testing.T) {
	units := parseAll(t)
	hardened := map[string]string{
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"NoNewPrivileges":         "yes",
		"ProtectKernelTunables":   "yes",
		"RestrictSUIDSGID":        "yes",
		"LockPersonality":         "yes",
		"MemoryDenyWriteExecute":  "yes",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
		"CapabilityBoundingSet":   "",
	}
	for _, d := range []string{"messagingd", "quorumd"} {
		u := units[serviceName(d)]
		for _, key := range slices.Sorted(maps.Keys(hardened)) {
			value := hardened[key]
			if got, ok := u.value("Service", key); !ok || got != value {
				t.Errorf("%s: [Service] %s=%q (set: %v), want %q", u.name, key, got, ok, value)
			}
		}
		rw := u.list("Service", "ReadWritePaths")
		for _, p := range []string{"/var/lib/vigil", "/var/log/vigil"} {
			if !slices.Contains(rw, p) {
				t.Errorf("%s: [Service] ReadWritePaths=%v, want it to include %s", u.name, rw, p)
			}
		}
	}

	// Each of these would break resource or fence agents, or the services
	// they start, which inherit them: mount namespaces hide the filesystems
	// agents mount, NoNewPrivileges= breaks su and setuid helpers,
	// MemoryDenyWriteExecute= breaks JITs, and so on.
	forbidden := []string{
		"ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "NoNewPrivileges",
		"ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups",
		"RestrictAddressFamilies", "SystemCallFilter", "CapabilityBoundingSet",
		"MemoryDenyWriteExecute", "UMask", "CPUSchedulingPolicy", "Nice", "OOMScoreAdjust",
	}
	for _, d := range []string{"lrmd", "fenced"} {
		u := units[serviceName(d)]
		for _, key := range forbidden {
			if got, ok := u.value("Service", key); ok {
				t.Errorf("%s: [Service] %s=%q must not be set: agents and the services they start would inherit it", u.name, key, got)
			}
		}
	}
	// crmd starts no agent but must be able to fence its own node.
	crm := units[serviceName("crmd")]
	for _, key := range []string{"ProtectSystem", "ProtectHome", "PrivateTmp", "NoNewPrivileges", "CapabilityBoundingSet", "SystemCallFilter", "ProtectKernelTunables"} {
		if got, ok := crm.value("Service", key); ok {
			t.Errorf("%s: [Service] %s=%q must not be set", crm.name, key, got)
		}
	}

	// Realtime scheduling like corosync, set by systemd so that the daemon
	// needs no CAP_SYS_NICE.
	m := units[serviceName("messagingd")]
	if got, _ := m.value("Service", "CPUSchedulingPolicy"); got != "rr" {
		t.Errorf("%s: [Service] CPUSchedulingPolicy=%q, want rr", m.name, got)
	}
	if got, _ := m.value("Service", "CPUSchedulingPriority"); got == "" {
		t.Errorf("%s: [Service] CPUSchedulingPriority= is not set", m.name)
	}
}
