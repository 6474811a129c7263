package ocf

import "testing"

func TestTable(t *testing.T) {
	want := map[ExitCode]struct {
		name string
		rec  Recovery
	}{
		0: {"OCF_SUCCESS", RecoverySoft}, 1: {"OCF_ERR_GENERIC", RecoverySoft},
		2: {"OCF_ERR_ARGS", RecoveryHard}, 3: {"OCF_ERR_UNIMPLEMENTED", RecoveryHard},
		4: {"OCF_ERR_PERM", RecoveryHard}, 5: {"OCF_ERR_INSTALLED", RecoveryHard},
		6: {"OCF_ERR_CONFIGURED", RecoveryFatal}, 7: {"OCF_NOT_RUNNING", RecoverySoft},
		8: {"OCF_RUNNING_PROMOTED", RecoverySoft}, 9: {"OCF_FAILED_PROMOTED", RecoverySoft},
		190: {"OCF_DEGRADED", RecoverySoft}, 191: {"OCF_DEGRADED_PROMOTED", RecoverySoft},
	}
	if len(Codes()) != len(want) {
		t.Fatalf("Codes() has %d codes, want %d", len(Codes()), len(want))
	}
	for _, c := range Codes() {
		w, ok := want[c]
		if !ok || c.String() != w.name || c.Recovery() != w.rec || !c.Known() {
			t.Errorf("code %d: %s %s, want %s %s", c, c, c.Recovery(), w.name, w.rec)
		}
	}
	if ExitCode(42).Known() || ExitCode(42).String() != "OCF_UNKNOWN(42)" || ExitCode(42).Recovery() != RecoverySoft {
		t.Errorf("unknown code 42: %s %s", ExitCode(42), ExitCode(42).Recovery())
	}
}

func TestFromLSB(t *testing.T) {
	for _, tc := range []struct {
		action string
		code   int
		want   ExitCode
	}{
		{"status", 0, Success}, {"status", 1, NotRunning}, {"status", 2, NotRunning},
		{"status", 3, NotRunning}, {"status", 4, ErrGeneric}, {"status", 150, ErrInstalled},
		{"status", 151, ErrPerm}, {"status", 99, ErrGeneric}, {"monitor", 3, NotRunning},
		{"start", 0, Success}, {"start", 1, ErrGeneric}, {"start", 5, ErrInstalled},
		{"stop", 7, NotRunning}, {"start", 8, ErrGeneric}, {"start", -1, ErrGeneric},
		{"start", 150, ErrGeneric},
	} {
		if got := FromLSB(tc.action, tc.code); got != tc.want {
			t.Errorf("FromLSB(%s, %d) = %s, want %s", tc.action, tc.code, got, tc.want)
		}
	}
}

func TestParseExitReason(t *testing.T) {
	for in, want := range map[string]string{
		"":                                     "",
		"noise\nocf-exit-reason:bad config \n": "bad config",
		"ocf-exit-reason:first\nocf-exit-reason:second": "second",
		"  ocf-exit-reason:indented":                    "",
	} {
		if got := ParseExitReason(in); got != want {
			t.Errorf("ParseExitReason(%q) = %q, want %q", in, got, want)
		}
	}
}
