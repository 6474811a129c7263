package e2e

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/vigil-ha/vigil/internal/localcluster"
	lrmv1 "github.com/vigil-ha/vigil/proto/vigil/lrm/v1"
)

// TestPluginAgentsThroughLrmd runs plugin agents from a node's plugin
// directory through a running vigil-lrmd, then makes a plugin crash in the
// middle of an operation, runs a binary that is not a plugin and an unknown
// class, and checks that every one of them is a clear failed result while
// the daemon keeps serving and another resource's recurring monitor keeps
// running (it notices, after all that, that its resource stopped).
func TestPluginAgentsThroughLrmd(t *testing.T) {
	plugins := t.TempDir()
	copyExecutable(t, filepath.Join(binDir, "plugins", "dummy"), filepath.Join(plugins, "dummy"))
	if err := os.WriteFile(filepath.Join(plugins, "not-a-plugin"), []byte("#!/bin/sh\necho I am a shell script\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := startClusterWith(t, localcluster.Options{Nodes: 1, PluginDir: plugins})
	lrm := lrmv1.NewExecutorServiceClient(dial(t, c.Nodes[0], "vigil-lrmd", c.AdminFiles()))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	agents, err := lrm.ListAgents(ctx, &lrmv1.ListAgentsRequest{Class: "plugin"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range agents.GetAgents() {
		names = append(names, a.GetType())
	}
	if !strings.Contains(strings.Join(names, " "), "dummy") {
		t.Fatalf("plugin agents %v: want dummy", names)
	}

	watch, err := lrm.WatchResults(ctx, &lrmv1.WatchResultsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan *lrmv1.Result, 64)
	go func() {
		defer close(results)
		for {
			m, err := watch.Recv()
			if err == io.EOF || err != nil {
				return
			}
			results <- m.GetResult()
		}
	}()

	exec := func(resource, typ, action string, interval time.Duration, params map[string]string) *lrmv1.Result {
		t.Helper()
		resp, err := lrm.Exec(ctx, &lrmv1.ExecRequest{Operation: &lrmv1.Operation{
			ResourceId: resource,
			Agent:      &lrmv1.Agent{Class: "plugin", Type: typ},
			Action:     action,
			Interval:   durationpb.New(interval),
			Timeout:    durationpb.New(10 * time.Second),
			Parameters: params,
		}})
		if err != nil {
			t.Fatalf("exec %s %s: %v", resource, action, err)
		}
		return resp.GetResult()
	}
	state := filepath.Join(t.TempDir(), "watched.state")
	watched := map[string]string{"state": state}
	if r := exec("watched", "dummy", "start", 0, watched); r.GetStatus() != lrmv1.Status_STATUS_DONE || r.GetExitCode() != 0 {
		t.Fatalf("start watched: %v", r)
	}
	if r := exec("watched", "dummy", "monitor", time.Second, watched); r.GetStatus() != lrmv1.Status_STATUS_DONE || r.GetExitCode() != 0 {
		t.Fatalf("recurring monitor of watched: %v", r)
	}

	// A plugin that dies in the middle of its start.
	crash := exec("crasher", "dummy", "start", 0, map[string]string{"state": filepath.Join(t.TempDir(), "c.state"), "crash_action": "start"})
	if crash.GetStatus() != lrmv1.Status_STATUS_ERROR || !strings.Contains(crash.GetOutput(), "crashing during start") {
		t.Errorf("crashing plugin: %v", crash)
	}
	// A binary in the plugin directory that does not speak the protocol.
	bogus := exec("bogus", "not-a-plugin", "start", 0, nil)
	if bogus.GetStatus() != lrmv1.Status_STATUS_ERROR || !strings.Contains(bogus.GetOutput(), "I am a shell script") {
		t.Errorf("not a plugin: %v", bogus)
	}
	// An agent that is not there, and a class that does not exist.
	if r := exec("missing", "no-such-plugin", "start", 0, nil); r.GetStatus() != lrmv1.Status_STATUS_NOT_INSTALLED {
		t.Errorf("unknown plugin: %v", r)
	}
	_, err = lrm.Exec(ctx, &lrmv1.ExecRequest{Operation: &lrmv1.Operation{
		ResourceId: "x", Agent: &lrmv1.Agent{Class: "nosuchclass", Type: "t"}, Action: "start", Timeout: durationpb.New(5 * time.Second),
	}})
	if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), `unknown class "nosuchclass"`) {
		t.Errorf("unknown class: %v", err)
	}

	// The watched resource stops behind lrmd's back: its recurring monitor,
	// still running after all of the above, reports the change.
	if err := os.Remove(state); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case r, ok := <-results:
			if !ok {
				t.Fatalf("result stream ended: %v", watch.Context().Err())
			}
			if r.GetResourceId() == "watched" && r.GetAction() == "monitor" && r.GetInterval().AsDuration() == time.Second && r.GetExitCode() == 7 {
				return
			}
		case <-ctx.Done():
			t.Fatal("the recurring monitor of the watched resource never reported that it stopped")
		}
	}
}

// copyExecutable copies a built binary into a test's directory.
func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}
