package cmap

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// loaded returns a store filled from testdata/vigil.conf as node 1.
func loaded(t *testing.T, opts Options) *Store {
	t.Helper()
	s := New(opts)
	if err := s.LoadConfig(loadTestConfig(t, "testdata/vigil.conf"), 1); err != nil {
		t.Fatal(err)
	}
	return s
}

func keys(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Key
	}
	return out
}

func TestListPrefixOrder(t *testing.T) {
	s := New(Options{})
	for _, k := range []string{
		"runtime.members.2.status", "runtime.members.10.status", "runtime.members.1.status",
	} {
		if err := s.SetRuntime(k, Str(MemberJoined)); err != nil {
			t.Fatal(err)
		}
	}
	must(t, s.SetRuntime("runtime.members.1.ip", Str("r(0) ip(10.0.0.1) ")))
	must(t, s.SetRuntime("totem.token", U32(3000)))
	must(t, s.SetRuntime("totem.token_coefficient", U32(650)))

	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{
			"runtime.members.1.ip", "runtime.members.1.status", "runtime.members.10.status",
			"runtime.members.2.status", "totem.token", "totem.token_coefficient",
		}},
		// Byte-wise order, as corosync-cmapctl lists: 10 sorts before 2.
		{"runtime.members.", []string{
			"runtime.members.1.ip", "runtime.members.1.status", "runtime.members.10.status", "runtime.members.2.status",
		}},
		// A plain string prefix: 1. does not match 10.
		{"runtime.members.1.", []string{"runtime.members.1.ip", "runtime.members.1.status"}},
		// Not a dotted boundary either, as in corosync.
		{"totem.token", []string{"totem.token", "totem.token_coefficient"}},
		{"nothing.", []string{}},
	}
	for _, tt := range tests {
		if got := keys(s.List(tt.prefix)); !slices.Equal(got, tt.want) {
			t.Errorf("List(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
}

func TestGet(t *testing.T) {
	s := loaded(t, Options{})
	v, err := s.Get("totem.cluster_name")
	if err != nil || v != Str("test") {
		t.Errorf("Get(totem.cluster_name) = %v, %v", v, err)
	}
	_, err = s.Get("totem.crypto_cipher")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "totem.crypto_cipher") {
		t.Errorf("Get(totem.crypto_cipher) error = %v, want ErrNotFound naming the key", err)
	}
}

func TestSetRuntimeIsTyped(t *testing.T) {
	s := New(Options{})
	tests := []struct {
		key string
		v   Value
		err error
	}{
		{"runtime.members.1.join_count", U32(1), nil},
		{"runtime.members.1.join_count", U64(1), ErrType},
		{"runtime.members.1.ip", U32(1), ErrType},
		{"stats.knet.node2.link0.connected", U8(1), nil},
		{"stats.knet.node2.link0.connected", U32(1), ErrType},
		{"runtime.invented.key", U32(1), ErrInvalidKey},
		{"runtime.members..status", Str("joined"), ErrInvalidKey},
		{"", Str("x"), ErrInvalidKey},
	}
	for _, tt := range tests {
		if err := s.SetRuntime(tt.key, tt.v); !errors.Is(err, tt.err) {
			t.Errorf("SetRuntime(%q, %v %v) error = %v, want %v", tt.key, tt.v.Type(), tt.v, err, tt.err)
		}
	}
}

func TestClientSet(t *testing.T) {
	tests := []struct {
		name string
		key  string
		v    Value
		err  error
		// msg must appear in the error: it says what to do.
		msg string
		// want are keys and their values after the Set.
		want map[string]Value
	}{
		// Three nodes with Vigil's defaults: token 1000, token_coefficient 0.
		{name: "token, converted from the wire's u64", key: "totem.token", v: U64(5000),
			want: map[string]Value{"totem.token": U32(5000), "runtime.config.totem.token": U32(5000), "runtime.config.totem.consensus": U32(6000)}},
		{name: "coefficient", key: "totem.token_coefficient", v: U32(650),
			want: map[string]Value{"totem.token_coefficient": U32(650), "runtime.config.totem.token": U32(1650), "runtime.config.totem.consensus": U32(1980)}},
		{name: "explicit consensus", key: "totem.consensus", v: U32(10000),
			want: map[string]Value{"totem.consensus": U32(10000), "runtime.config.totem.consensus": U32(10000)}},
		{name: "join", key: "totem.join", v: U32(100),
			want: map[string]Value{"runtime.config.totem.join": U32(100)}},
		{name: "debug", key: "logging.debug", v: Str("trace"),
			want: map[string]Value{"logging.debug": Str("trace")}},

		{name: "token below the minimum", key: "totem.token", v: U32(29), err: ErrInvalidValue, msg: "minimum is 30 ms"},
		{name: "token too wide", key: "totem.token", v: U64(1 << 32), err: ErrInvalidValue, msg: "u32"},
		{name: "token as a string", key: "totem.token", v: Str("5000"), err: ErrType, msg: "totem.token is u32"},
		{name: "join beyond consensus", key: "totem.join", v: U32(5000), err: ErrInvalidValue, msg: "may not be shorter than join"},
		{name: "debug level", key: "logging.debug", v: Str("verbose"), err: ErrInvalidValue, msg: "off, on or trace"},
		{name: "cluster name", key: "totem.cluster_name", v: Str("x"), err: ErrNotChangeable, msg: "edit vigil.conf on every node"},
		{name: "nodelist", key: "nodelist.node.0.nodeid", v: U32(9), err: ErrNotChangeable, msg: "totem.token, totem.token_coefficient"},
		{name: "quorum", key: "quorum.expected_votes", v: U32(2), err: ErrNotChangeable, msg: "vigil-quorumd"},
		{name: "runtime", key: "runtime.members.1.status", v: Str("left"), err: ErrNotChangeable, msg: "only vigil-messagingd writes"},
		{name: "derived runtime", key: "runtime.config.totem.token", v: U32(1), err: ErrNotChangeable, msg: "only vigil-messagingd writes"},
		{name: "stats", key: "stats.knet.node1.link0.mtu", v: U32(1), err: ErrNotChangeable},
		{name: "unknown key", key: "totem.crypto_cipher", v: Str("none"), err: ErrNotChangeable, msg: "not a key of Vigil's cmap"},
		{name: "empty key", key: "", v: Str("x"), err: ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := loaded(t, Options{})
			before := s.List("")
			err := s.Set(tt.key, tt.v)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Set(%q, %v) error = %v, want %v", tt.key, tt.v, err, tt.err)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("error %q does not say %q", err, tt.msg)
				}
				if after := s.List(""); !slices.Equal(after, before) {
					t.Errorf("a refused Set changed the store")
				}
				return
			}
			for k, want := range tt.want {
				if got, err := s.Get(k); err != nil || got != want {
					t.Errorf("after Set, %s = %v (%v), %v; want %v (%v)", k, got, got.Type(), err, want, want.Type())
				}
			}
		})
	}
}

// TestSetTokenAsInTheReference replays the capture "corosync-cmapctl -s
// totem.token u32 5000; then -R" of a two-node cluster with corosync's
// timings: the token in force becomes 5000 and the derived consensus 6000.
func TestSetTokenAsInTheReference(t *testing.T) {
	s := New(Options{})
	must(t, s.LoadConfig(loadWithCorosyncTimings(t, "testdata/twonode.conf"), 1))
	if v, _ := s.Get("runtime.config.totem.token"); v != U32(3000) {
		t.Fatalf("runtime.config.totem.token = %v, want 3000", v)
	}
	must(t, s.Set("totem.token", U32(5000)))
	for k, want := range map[string]Value{
		"runtime.config.totem.token":     U32(5000),
		"runtime.config.totem.consensus": U32(6000),
	} {
		if got, _ := s.Get(k); got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
}

func TestSetConsensusZeroDerivesAgain(t *testing.T) {
	s := loaded(t, Options{})
	must(t, s.Set("totem.consensus", U32(9000)))
	must(t, s.Set("totem.consensus", U32(0)))
	if _, err := s.Get("totem.consensus"); !errors.Is(err, ErrNotFound) {
		t.Errorf("totem.consensus after setting 0: err = %v, want it removed", err)
	}
	// 3 nodes with Vigil's defaults: 1000 + 1 * 0, times 1.2.
	if v, _ := s.Get("runtime.config.totem.consensus"); v != U32(1200) {
		t.Errorf("runtime.config.totem.consensus = %v, want 1200", v)
	}
}

func TestOnSetHooks(t *testing.T) {
	s := loaded(t, Options{})
	type call struct {
		key     string
		v       Value
		derived Value
	}
	var calls []call
	s.OnSet(func(key string, v Value) {
		// The derived keys are in place when the hook runs, and the hook
		// may read and write the store.
		d, _ := s.Get("runtime.config.totem.token")
		calls = append(calls, call{key, v, d})
		must(t, s.SetRuntime("runtime.members.1.status", Str(MemberJoined)))
	})
	must(t, s.Set("totem.token", U64(4000)))
	must(t, s.Set("logging.debug", Str("on")))
	if err := s.Set("totem.version", U32(3)); err == nil {
		t.Fatal("totem.version was set")
	}
	// 3 nodes with token_coefficient 0: the token in force is the token.
	want := []call{
		{"totem.token", U32(4000), U32(4000)},
		{"logging.debug", Str("on"), U32(4000)},
	}
	if !slices.Equal(calls, want) {
		t.Errorf("hook calls = %v, want %v", calls, want)
	}
}

func TestSetMember(t *testing.T) {
	s := New(Options{})
	w := s.Watch("runtime.members.")
	defer w.Close()

	must(t, s.SetMember(2, []string{"10.99.0.2", "fd00::2"}, MemberJoined))
	must(t, s.SetMember(2, nil, MemberLeft))
	must(t, s.SetMember(2, []string{"10.99.0.2", "fd00::2"}, MemberJoined))
	must(t, s.SetMember(2, []string{"10.99.0.2", "fd00::2"}, MemberJoined)) // no change

	want := []string{
		"runtime.members.2.config_version (u64) = 0",
		"runtime.members.2.ip (str) = r(0) ip(10.99.0.2) r(1) ip(fd00::2) ",
		"runtime.members.2.join_count (u32) = 1",
		"runtime.members.2.status (str) = joined",
	}
	if got := dump(s.List("")); !slices.Equal(got, []string{want[0], want[1], "runtime.members.2.join_count (u32) = 2", want[3]}) {
		t.Errorf("after join, leave, join:\n%s", strings.Join(got, "\n"))
	}
	wantEvents := []string{
		"added " + want[0], "added " + want[1], "added " + want[2], "added " + want[3],
		"changed runtime.members.2.status (str) = left",
		"changed runtime.members.2.join_count (u32) = 2",
		"changed runtime.members.2.status (str) = joined",
	}
	if got := drain(w); !slices.Equal(got, wantEvents) {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantEvents, "\n"))
	}

	if err := s.SetMember(2, nil, "up"); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("status up: err = %v", err)
	}
	if err := s.SetMember(0, nil, MemberJoined); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("node 0: err = %v", err)
	}
}

func TestSetLinkStats(t *testing.T) {
	s := New(Options{})
	must(t, s.SetLinkStats(2, 1, LinkStats{Enabled: true, Connected: true, MTU: 1397, TxDataPackets: 5, LatencyAve: 120, UpCount: 1}))
	got := dump(s.List("stats.knet.node2.link1."))
	for _, want := range []string{
		"stats.knet.node2.link1.connected (u8) = 1",
		"stats.knet.node2.link1.enabled (u8) = 1",
		"stats.knet.node2.link1.mtu (u32) = 1397",
		"stats.knet.node2.link1.tx_data_packets (u64) = 5",
		"stats.knet.node2.link1.latency_ave (u32) = 120",
		"stats.knet.node2.link1.up_count (u32) = 1",
		"stats.knet.node2.link1.down_count (u32) = 0",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, strings.Join(got, "\n"))
		}
	}
	if len(got) != len(linkStatFields) {
		t.Errorf("%d keys, want %d", len(got), len(linkStatFields))
	}
	if err := s.SetLinkStats(2, 8, LinkStats{}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("link 8: err = %v", err)
	}
	if n := s.DeletePrefix("stats.knet.node2."); n != len(linkStatFields) {
		t.Errorf("DeletePrefix removed %d keys, want %d", n, len(linkStatFields))
	}
}

func TestConcurrentUse(t *testing.T) {
	s := loaded(t, Options{WatchBuffer: 1 << 16})
	w := s.Watch("runtime.members.")
	defer w.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				id := uint32(i*100 + j + 1)
				if err := s.SetMember(id, []string{fmt.Sprint("10.0.0.", i)}, MemberJoined); err != nil {
					t.Error(err)
				}
				_ = s.List("runtime.")
				_, _ = s.Get("totem.token")
				_ = s.Set("totem.token", U32(uint32(3000+j)))
			}
		})
	}
	wg.Wait()
	if n := len(s.List("runtime.members.")); n != 8*100*4 {
		t.Errorf("%d member keys, want %d", n, 8*100*4)
	}
	if got := len(drain(w)); got != 8*100*4 {
		t.Errorf("%d events, want %d", got, 8*100*4)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// dump renders entries as corosync-cmapctl prints them.
func dump(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = fmt.Sprintf("%s (%s) = %s", e.Key, e.Value.Type(), e.Value)
	}
	return out
}

// drain returns the events queued on w, without waiting.
func drain(w *Watcher) []string {
	var out []string
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return out
			}
			out = append(out, fmt.Sprintf("%s %s (%s) = %s", ev.Kind, ev.Key, ev.Value.Type(), ev.Value))
		default:
			return out
		}
	}
}
