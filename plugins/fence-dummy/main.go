// Command fence-dummy is a STONITH driver for tests: it fences nothing,
// but records every request in a file and can be told to fail, to be slow
// or to crash, so that vigil-fenced's handling of each can be checked.
//
// Build it into vigil-fenced's plugin directory; a device then uses it as
// the agent plugin:fence-dummy.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-ha/vigil/plugins/sdk"
)

func main() { sdk.ServeStonith(&dummy{}) }

type dummy struct {
	mu sync.Mutex // serialises writes to the record file
}

func (*dummy) StonithInfo() sdk.StonithInfo {
	return sdk.StonithInfo{
		Name:        "fence-dummy",
		Version:     "1.0.0",
		Description: "Fences nothing; records requests (record_file) and can fail, be slow or crash, for tests.",
		Parameters: []sdk.Parameter{
			{Name: "record_file", Description: "File every list, status and fence request is appended to as a line \"ACTION TARGET\"; status answers from it."},
			{Name: "targets", Description: "Comma-separated nodes the list action answers; empty: list is not supported."},
			{Name: "delay", Description: "Duration (Go syntax, e.g. 2s) every action sleeps before doing anything."},
			{Name: "fail", Description: "Comma-separated actions (off, on, reboot, status, list) that fail, or \"all\"."},
			{Name: "crash", Description: "Comma-separated actions during which the plugin process exits abruptly."},
			{Name: "pid_file", Description: "File the plugin writes its process id to at every action, for tests that check it was killed."},
		},
	}
}

// prepare records the request, sleeps, crashes or fails as configured.
func (d *dummy) prepare(ctx context.Context, p map[string]string, action, target string) error {
	if err := d.record(p, action, target); err != nil {
		return err
	}
	if f := p["pid_file"]; f != "" {
		if err := os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return fmt.Errorf("pid_file: %w", err)
		}
	}
	if v := p["delay"]; v != "" {
		dur, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("delay %q: %v", v, err)
		}
		select {
		case <-time.After(dur):
		case <-ctx.Done():
			return fmt.Errorf("%s cancelled during its delay: %w", action, ctx.Err())
		}
	}
	if listed(p["crash"], action) {
		slog.Error("fence-dummy: crashing during " + action + " as configured (crash)")
		os.Exit(3)
	}
	if listed(p["fail"], action) {
		return fmt.Errorf("fence-dummy: %s %s failed as configured (fail=%s)", action, target, p["fail"])
	}
	return nil
}

func listed(list, action string) bool {
	for _, a := range strings.Split(list, ",") {
		if a = strings.TrimSpace(a); a == action || a == "all" {
			return true
		}
	}
	return false
}

func (d *dummy) record(p map[string]string, action, target string) error {
	file := p["record_file"]
	if file == "" {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("record_file: %w", err)
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s %s\n", action, target)
	return err
}

func (d *dummy) List(ctx context.Context, p map[string]string) ([]string, error) {
	if err := d.prepare(ctx, p, "list", ""); err != nil {
		return nil, err
	}
	if p["targets"] == "" {
		return nil, fmt.Errorf("fence-dummy: list: no targets parameter: %w", sdk.ErrUnsupported)
	}
	var out []string
	for _, t := range strings.Split(p["targets"], ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out, nil
}

// Status answers off when the last fence action recorded for target was
// off, on otherwise.
func (d *dummy) Status(ctx context.Context, p map[string]string, target string) (bool, error) {
	if err := d.prepare(ctx, p, "status", target); err != nil {
		return false, err
	}
	f, err := os.Open(p["record_file"])
	if errors.Is(err, os.ErrNotExist) || p["record_file"] == "" {
		return true, nil
	} else if err != nil {
		return false, err
	}
	defer f.Close()
	on := true
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && fields[1] == target && slices.Contains([]string{"off", "on", "reboot"}, fields[0]) {
			on = fields[0] != "off"
		}
	}
	return on, sc.Err()
}

func (d *dummy) Fence(ctx context.Context, p map[string]string, target, action string) (string, error) {
	if err := d.prepare(ctx, p, action, target); err != nil {
		return "", err
	}
	return fmt.Sprintf("fence-dummy: %s %s recorded", action, target), nil
}
