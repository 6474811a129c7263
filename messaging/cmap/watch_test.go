package cmap

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWatchEvents(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		do     func(s *Store)
		want   []string
	}{
		{
			name:   "added, changed, deleted",
			prefix: "runtime.members.1.",
			do: func(s *Store) {
				must(t, s.SetRuntime("runtime.members.1.status", Str(MemberJoined)))
				must(t, s.SetRuntime("runtime.members.1.status", Str(MemberLeft)))
				s.Delete("runtime.members.1.status")
			},
			want: []string{
				"added runtime.members.1.status (str) = joined",
				"changed runtime.members.1.status (str) = left",
				// A deletion carries the value the key had.
				"deleted runtime.members.1.status (str) = left",
			},
		},
		{
			name:   "writing the same value is no change",
			prefix: "",
			do: func(s *Store) {
				must(t, s.SetRuntime("runtime.members.1.join_count", U32(1)))
				must(t, s.SetRuntime("runtime.members.1.join_count", U32(1)))
			},
			want: []string{"added runtime.members.1.join_count (u32) = 1"},
		},
		{
			name:   "only keys under the prefix",
			prefix: "runtime.members.1.",
			do: func(s *Store) {
				must(t, s.SetRuntime("runtime.members.10.status", Str(MemberJoined)))
				must(t, s.SetRuntime("runtime.members.1.ip", Str("r(0) ip(10.0.0.1) ")))
				must(t, s.SetRuntime("totem.token", U32(1000)))
			},
			want: []string{"added runtime.members.1.ip (str) = r(0) ip(10.0.0.1) "},
		},
		{
			name:   "a client Set and what it derives",
			prefix: "",
			do: func(s *Store) {
				must(t, s.Set("totem.token", U32(5000)))
			},
			// 3 nodes with token_coefficient 0: the token in force is 5000,
			// retransmit 5000/4.2, hold 1190*0.8-10, consensus 1.2*5000.
			want: []string{
				"changed totem.token (u32) = 5000",
				"changed runtime.config.totem.token (u32) = 5000",
				"changed runtime.config.totem.token_retransmit (u32) = 1190",
				"changed runtime.config.totem.hold (u32) = 942",
				"changed runtime.config.totem.consensus (u32) = 6000",
			},
		},
		{
			name:   "delete by prefix",
			prefix: "stats.",
			do: func(s *Store) {
				must(t, s.SetLinkStats(3, 0, LinkStats{}))
				s.DeletePrefix("stats.knet.node3.")
			},
			want: func() []string {
				var adds, dels []string
				for _, f := range linkStatFields {
					line := "stats.knet.node3.link0." + f.name + " (" + f.typ.String() + ") = 0"
					adds = append(adds, "added "+line)
					dels = append(dels, "deleted "+line)
				}
				// Deletions by prefix come in key order.
				slices.SortFunc(dels, func(a, b string) int { return strings.Compare(strings.Fields(a)[1], strings.Fields(b)[1]) })
				return append(adds, dels...)
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := loaded(t, Options{})
			w := s.Watch(tt.prefix)
			defer w.Close()
			tt.do(s)
			got := drain(w)
			if !slices.Equal(got, tt.want) {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestReloadSendsOnlyDifferences(t *testing.T) {
	s := loaded(t, Options{})
	must(t, s.Set("totem.token", U32(5000)))
	must(t, s.SetMember(1, []string{"10.99.0.1"}, MemberJoined))
	w := s.Watch("")
	defer w.Close()
	must(t, s.LoadConfig(loadTestConfig(t, "testdata/twonode.conf"), 2))
	got := drain(w)
	for _, want := range []string{
		// The runtime change is overwritten by the file's value (Vigil's
		// default token).
		"changed totem.token (u32) = 1000",
		"changed runtime.config.totem.token (u32) = 1000",
		"changed nodelist.local_node_pos (u32) = 1",
		"deleted nodelist.node.2.nodeid (u32) = 3",
		"deleted totem.interface.1.knet_link_priority (u8) = 5",
		"changed quorum.two_node (u8) = 1",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, strings.Join(got, "\n"))
		}
	}
	for _, ev := range got {
		if strings.Contains(ev, "totem.cluster_name") || strings.Contains(ev, "runtime.members.") {
			t.Errorf("unexpected event %q: the key did not change or is not configuration", ev)
		}
	}
	if _, err := s.Get("runtime.members.1.status"); err != nil {
		t.Errorf("a reload removed runtime state: %v", err)
	}
}

func TestWatchOverflowClosesWithError(t *testing.T) {
	s := New(Options{WatchBuffer: 4})
	slow := s.Watch("runtime.")
	defer slow.Close()
	other := s.Watch("totem.")
	defer other.Close()

	done := make(chan struct{})
	go func() {
		defer close(done)
		// Writers never wait for a watcher that does not read.
		for i := range 10 {
			if err := s.SetRuntime("runtime.members.1.join_count", U32(uint32(i+1))); err != nil {
				t.Error(err)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a writer blocked on a watcher that does not read")
	}

	got := drain(slow)
	want := []string{
		"added runtime.members.1.join_count (u32) = 1",
		"changed runtime.members.1.join_count (u32) = 2",
		"changed runtime.members.1.join_count (u32) = 3",
		"changed runtime.members.1.join_count (u32) = 4",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events before the overflow:\n%s", strings.Join(got, "\n"))
	}
	if _, ok := <-slow.Events(); ok {
		t.Fatal("the channel of an overflowed watcher is open")
	}
	err := slow.Err()
	if !errors.Is(err, ErrWatchOverflow) || !strings.Contains(err.Error(), `"runtime."`) {
		t.Errorf("Err() = %v, want ErrWatchOverflow naming the prefix", err)
	}

	// The other watcher and the store carry on.
	must(t, s.SetRuntime("totem.token", U32(1000)))
	if got := drain(other); !slices.Equal(got, []string{"added totem.token (u32) = 1000"}) {
		t.Errorf("other watcher: %q", got)
	}
	if other.Err() != nil {
		t.Errorf("other watcher: Err() = %v", other.Err())
	}
}

func TestWatchClose(t *testing.T) {
	s := New(Options{})
	w := s.Watch("")
	w.Close()
	w.Close()
	if _, ok := <-w.Events(); ok {
		t.Error("Events is open after Close")
	}
	if w.Err() != nil {
		t.Errorf("Err() after Close = %v, want nil", w.Err())
	}
	// Writes after Close do not reach (or panic on) the closed watcher.
	must(t, s.SetRuntime("totem.token", U32(1000)))
}
