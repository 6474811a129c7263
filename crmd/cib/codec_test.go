package cib

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// schedulerCases finds Pacemaker's scheduler regression inputs, kept in
// the shared folder beside the repository.
func schedulerCases(t testing.TB) []string {
	t.Helper()
	var dir string
	for _, c := range []string{
		"../../../shared/pcmk-scheduler/xml",
		"../../shared/pcmk-scheduler/xml",
		"/work/shared/pcmk-scheduler/xml",
	} {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			dir = c
			break
		}
	}
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Pacemaker's scheduler cases (../../../shared/pcmk-scheduler/xml) are missing; CI must have them")
		}
		t.Skip("Pacemaker's scheduler cases (../../../shared/pcmk-scheduler/xml) are not here")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s: %v", dir, err)
	}
	return files
}

func TestRoundTripSchedulerCases(t *testing.T) {
	files := schedulerCases(t)
	if len(files) != 66 {
		t.Errorf("%d cases, want 66", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".xml"), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c1, err := Unmarshal(in)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			out := Marshal(c1)
			c2, err := Unmarshal(out)
			if err != nil {
				t.Fatalf("decode of the encoded CIB: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(c1, c2) {
				t.Fatalf("the model changed in a round trip:\n%s", out)
			}
			if again := Marshal(c2); !bytes.Equal(out, again) {
				t.Fatalf("encoding is not stable")
			}
			if got, want := countElements(t, out), countElements(t, in); got != want {
				t.Errorf("%d elements after the round trip, %d before", got, want)
			}
			if got, want := countAttrs(t, out), countAttrs(t, in); got != want {
				t.Errorf("%d attributes after the round trip, %d before", got, want)
			}
		})
	}
}

func countElements(t *testing.T, b []byte) int {
	root, err := parseTree(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var n func(*xnode) int
	n = func(x *xnode) int {
		c := 1
		for _, ch := range x.children {
			c += n(ch)
		}
		return c
	}
	return n(root)
}

func countAttrs(t *testing.T, b []byte) int {
	root, err := parseTree(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var n func(*xnode) int
	n = func(x *xnode) int {
		c := len(x.attrs)
		for _, ch := range x.children {
			c += n(ch)
		}
		return c
	}
	return n(root)
}

func decodeFile(t *testing.T, f string) *CIB {
	t.Helper()
	in, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Unmarshal(in)
	if err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return c
}
