package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/messaging/cmap"
	messagingv1 "github.com/vigil-ha/vigil/proto/vigil/messaging/v1"
)

// TestMain is the package's leak check; it lives here because this is the
// package's first test file. Move it to main_test.go when others arrive.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestCmapLine(t *testing.T) {
	tests := []struct {
		key    string
		v      cmap.Value
		binary bool
		want   string
	}{
		{"totem.token", cmap.U32(3000), false, "totem.token (u32) = 3000"},
		{"runtime.members.1.ip", cmap.Str("r(0) ip(10.99.0.1) "), false, "runtime.members.1.ip (str) = r(0) ip(10.99.0.1) "},
		{"quorum.two_node", cmap.U8(0), false, "quorum.two_node (u8) = 0"},
		{"runtime.members.1.config_version", cmap.U64(0), false, "runtime.members.1.config_version (u64) = 0"},
		{"x.signed", cmap.I32(-5), false, "x.signed (i32) = -5"},
		{"x.float", cmap.Flt(0.5), false, "x.float (flt) = 0.500000"},
		{"x.double", cmap.Dbl(2), false, "x.double (dbl) = 2.000000"},
		{"x.bin", cmap.Bin([]byte("a\x01\\")), false, "x.bin (bin)"},
		{"x.bin", cmap.Bin([]byte("a\x01\\")), true, `x.bin (bin) = a\x01\\`},
	}
	for _, tt := range tests {
		if got := cmapLine(tt.key, tt.v, tt.binary); got != tt.want {
			t.Errorf("cmapLine(%s, %v, %v) = %q, want %q", tt.key, tt.v, tt.binary, got, tt.want)
		}
	}
}

func TestCmapJSON(t *testing.T) {
	var buf bytes.Buffer
	err := cmapWriteJSON(&buf, []cmapEntryJSON{
		cmapJSON("totem.token", cmap.U32(3000)),
		cmapJSON("totem.cluster_name", cmap.Str("test")),
		cmapJSON("x.signed", cmap.I8(-1)),
		cmapJSON("x.double", cmap.Dbl(0.25)),
		cmapJSON("x.bin", cmap.Bin([]byte{0, 1})),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `[
  {
    "key": "totem.token",
    "type": "u32",
    "value": 3000
  },
  {
    "key": "totem.cluster_name",
    "type": "str",
    "value": "test"
  },
  {
    "key": "x.signed",
    "type": "i8",
    "value": -1
  },
  {
    "key": "x.double",
    "type": "dbl",
    "value": 0.25
  },
  {
    "key": "x.bin",
    "type": "bin",
    "value": "AAE="
  }
]
`
	if buf.String() != want {
		t.Errorf("got\n%s", buf.String())
	}
}

func TestCmapWatchLine(t *testing.T) {
	entry := &messagingv1.Entry{Key: "totem.token", Value: cmap.ToProto(cmap.U32(5000))}
	tests := []struct {
		event  messagingv1.WatchEvent
		output string
		want   string
	}{
		{messagingv1.WatchEvent_WATCH_EVENT_ADDED, "text", "create> totem.token (u32) = 5000"},
		{messagingv1.WatchEvent_WATCH_EVENT_CHANGED, "text", "modify> totem.token (u32) = 5000"},
		{messagingv1.WatchEvent_WATCH_EVENT_DELETED, "text", "delete> totem.token (u32) = 5000"},
		{messagingv1.WatchEvent_WATCH_EVENT_CHANGED, "json", `{"event":"changed","key":"totem.token","type":"u32","value":5000}`},
	}
	for _, tt := range tests {
		got, err := cmapWatchLine(&messagingv1.WatchResponse{Event: tt.event, Entry: entry}, &cmapFlags{output: tt.output})
		if err != nil || got != tt.want {
			t.Errorf("cmapWatchLine(%v, %s) = %q, %v; want %q", tt.event, tt.output, got, err, tt.want)
		}
	}
}

func TestParseCmapSet(t *testing.T) {
	files := func(name string) ([]byte, error) {
		if name == "-" {
			return []byte("from stdin"), nil
		}
		return nil, errors.New("open " + name + ": no such file or directory")
	}
	tests := []struct {
		key, typ, value string
		want            cmap.Value
		err             string
	}{
		{key: "totem.token", typ: "u32", value: "5000", want: cmap.U32(5000)},
		{key: "logging.debug", typ: "str", value: "on", want: cmap.Str("on")},
		{key: "totem.token", typ: "u16", value: "5000", err: "cmap set totem.token: the key is u32, not u16: vigil cmap set totem.token u32 VALUE"},
		{key: "totem.token", typ: "int", value: "5000", err: `cmap set totem.token: unknown type "int": use one of i8, i16, i32, i64, u8, u16, u32, u64, flt, dbl, str or bin`},
		{key: "totem.token", typ: "u32", value: "-1", err: `cmap set totem.token: "-1" is not a valid u32 integer (0..4294967295)`},
		{key: "totem.token", typ: "u32", value: "5s", err: `"5s" is not a valid u32 integer`},
		// Keys the CLI does not know go to the daemon, which decides.
		{key: "some.key", typ: "i16", value: "-7", want: cmap.I16(-7)},
		{key: "some.key", typ: "bin", value: "-", want: cmap.Bin([]byte("from stdin"))},
		{key: "some.key", typ: "bin", value: "/nonexistent", err: "open /nonexistent: no such file or directory"},
	}
	for _, tt := range tests {
		got, err := parseCmapSet(tt.key, tt.typ, tt.value, files)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseCmapSet(%s %s %s) error = %v, want %q", tt.key, tt.typ, tt.value, err, tt.err)
			}
		case err != nil || got != tt.want:
			t.Errorf("parseCmapSet(%s %s %s) = %v, %v; want %v", tt.key, tt.typ, tt.value, got, err, tt.want)
		}
	}
}

func TestCmapError(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{status.Error(codes.NotFound, "cmap: no such key: totem.crypto_cipher; list the keys with List, e.g. `vigil cmap list totem.`"),
			"cmap get totem.crypto_cipher: cmap: no such key: totem.crypto_cipher; list the keys with List, e.g. `vigil cmap list totem.` (NotFound)"},
		{status.Error(codes.FailedPrecondition, "cmap: read-only key: totem.cluster_name is read from vigil.conf"),
			"cmap get totem.crypto_cipher: cmap: read-only key: totem.cluster_name is read from vigil.conf (FailedPrecondition)"},
		{status.Error(codes.Unavailable, "connection refused"),
			"cmap get totem.crypto_cipher: vigil-messagingd is not reachable (connection refused); is it running?"},
	}
	for _, tt := range tests {
		if got := cmapError("get totem.crypto_cipher", tt.err).Error(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("cmapError = %q, want %q", got, tt.want)
		}
	}
}

// cmapClient serves a cmap loaded from internal/config's example file on
// an in-process listener.
func cmapClient(t *testing.T) (messagingv1.CmapServiceClient, *cmap.Store) {
	t.Helper()
	cfg, err := config.Load("../../internal/config/testdata/vigil.conf")
	if err != nil {
		t.Fatal(err)
	}
	store := cmap.New(cmap.Options{})
	if err := store.LoadConfig(cfg, 1); err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	cmap.NewService(store).Register(srv)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
	})
	return messagingv1.NewCmapServiceClient(conn), store
}

func TestCmapGetListWatch(t *testing.T) {
	c, store := cmapClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	text := &cmapFlags{output: "text"}

	var out bytes.Buffer
	err := cmapGet(ctx, &out, c, text, []string{"runtime.config.totem.token", "totem.crypto_cipher", "nodelist.local_node_pos"})
	if err == nil || !strings.Contains(err.Error(), "no such key: totem.crypto_cipher") {
		t.Errorf("get of a missing key: err = %v", err)
	}
	// Three nodes, token 1000, token_coefficient 500.
	if want := "runtime.config.totem.token (u32) = 1500\nnodelist.local_node_pos (u32) = 0\n"; out.String() != want {
		t.Errorf("get printed\n%s\nwant\n%s", out.String(), want)
	}

	out.Reset()
	if err := cmapList(ctx, &out, c, text, []string{"totem.interface.", "quorum.auto_tie"}); err != nil {
		t.Fatal(err)
	}
	want := `totem.interface.0.knet_link_priority (u8) = 10
totem.interface.0.mcastport (u16) = 5405
totem.interface.1.knet_link_priority (u8) = 5
totem.interface.1.mcastport (u16) = 5406
quorum.auto_tie_breaker (u8) = 1
quorum.auto_tie_breaker_node (str) = 3 1
`
	if out.String() != want {
		t.Errorf("list printed\n%s\nwant\n%s", out.String(), want)
	}

	out.Reset()
	if err := cmapList(ctx, &out, c, &cmapFlags{output: "json"}, []string{"totem.token"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"key": "totem.token_coefficient",
      "type": "u32",
      "value": 500`) {
		t.Errorf("list -o json printed\n%s", out.String())
	}

	// watch: changes until the context ends, which is a clean exit. The
	// watch is in place some time after cmapWatch starts, so toggle a
	// member until a change is printed.
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	lines := &lineWriter{lines: make(chan string, 100)}
	done := make(chan error, 1)
	go func() { done <- cmapWatch(wctx, lines, c, text, "runtime.members.2.status") }()
	var first string
	for status := cmap.MemberJoined; first == ""; {
		if err := store.SetMember(2, []string{"10.0.0.2"}, status); err != nil {
			t.Fatal(err)
		}
		select {
		case first = <-lines.lines:
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no change was printed")
		}
		status = map[string]string{cmap.MemberJoined: cmap.MemberLeft, cmap.MemberLeft: cmap.MemberJoined}[status]
	}
	if !strings.HasPrefix(first, "create> runtime.members.2.status (str) = ") && !strings.HasPrefix(first, "modify> runtime.members.2.status (str) = ") {
		t.Errorf("watch printed %q", first)
	}
	wcancel()
	if err := <-done; err != nil {
		t.Errorf("watch ended with %v, want a clean exit", err)
	}
}

// lineWriter passes each line written to it to a channel.
type lineWriter struct{ lines chan string }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.lines <- strings.TrimSuffix(string(p), "\n")
	return len(p), nil
}
