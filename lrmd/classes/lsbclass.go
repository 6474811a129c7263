package classes

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/lrmd/agent"
	"github.com/vigil-ha/vigil/lrmd/ocf"
)

// DefaultLSBDir is where LSB init scripts live unless configured otherwise.
const DefaultLSBDir = "/etc/init.d"

// LSBConfig configures the lsb class.
type LSBConfig struct {
	// Dir holds the init scripts; DefaultLSBDir when empty.
	Dir string
	RunConfig
}

// LSB is the lsb class: init scripts run with start, stop and status, their
// codes mapped to OCF with ocf.FromLSB. It is safe for concurrent use.
type LSB struct {
	cfg LSBConfig
}

var _ agent.Class = (*LSB)(nil)

// NewLSB returns the lsb class for cfg.
func NewLSB(cfg LSBConfig) *LSB {
	if cfg.Dir == "" {
		cfg.Dir = DefaultLSBDir
	}
	return &LSB{cfg: cfg}
}

// Name returns "lsb".
func (c *LSB) Name() string { return "lsb" }

// Available reports an error when the script directory cannot be read.
func (c *LSB) Available() error {
	if err := accessible(c.cfg.Dir); err != nil {
		return fmt.Errorf("lsb: %w", err)
	}
	return nil
}

// Providers returns nil: LSB has no providers.
func (c *LSB) Providers() ([]string, error) { return nil, nil }

// Agents lists the executable scripts of the directory; provider is
// ignored.
func (c *LSB) Agents(string) ([]string, error) {
	return listDir(c.cfg.Dir, executable)
}

// lsbActions maps the actions LSB scripts implement to the script's
// argument.
var lsbActions = map[string]string{
	"start": "start", "stop": "stop", "status": "status", "monitor": "status",
	"restart": "restart", "force-reload": "force-reload",
}

// Exec runs op's action of the script: monitor runs status; meta-data is
// synthesized from the script's LSB header; other actions are
// StatusNotSupported. The script gets the base environment only, as LSB
// scripts take no parameters.
func (c *LSB) Exec(ctx context.Context, op agent.Operation) agent.Result {
	if !validName(op.Type) {
		return notInstalled("lsb:%s: invalid script name", op.Type)
	}
	path := filepath.Join(c.cfg.Dir, op.Type)
	if !executable(path) {
		return notInstalled("lsb:%s: no executable script at %s", op.Type, path)
	}
	if op.Action == "meta-data" {
		start := time.Now()
		md, err := lsbMetadata(op.Type, path)
		if err != nil {
			return agent.Result{Status: agent.StatusError, ExitCode: int(ocf.ErrGeneric), Output: err.Error(), Started: start}
		}
		return agent.Result{Status: agent.StatusDone, Output: string(md), Started: start, ExecTime: time.Since(start)}
	}
	arg, ok := lsbActions[op.Action]
	if !ok {
		return agent.Result{
			Status: agent.StatusNotSupported, ExitCode: int(ocf.ErrUnimplemented),
			Output: fmt.Sprintf("lsb:%s: action %q is not supported by LSB scripts", op.Type, op.Action), Started: time.Now(),
		}
	}
	return c.cfg.run(ctx, path, arg, c.cfg.baseEnv(), func(code int) int { return int(ocf.FromLSB(arg, code)) })
}

// Metadata returns OCF meta-data synthesized from the script's LSB header
// (### BEGIN INIT INFO ... ### END INIT INFO), as Pacemaker does.
func (c *LSB) Metadata(_ context.Context, _, typ string) ([]byte, error) {
	if !validName(typ) {
		return nil, fmt.Errorf("lsb:%s: %w", typ, agent.ErrNotInstalled)
	}
	path := filepath.Join(c.cfg.Dir, typ)
	if !executable(path) {
		return nil, fmt.Errorf("lsb:%s: %w", typ, agent.ErrNotInstalled)
	}
	return lsbMetadata(typ, path)
}

func lsbMetadata(name, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lsb:%s: %w", name, err)
	}
	defer f.Close()
	header := map[string]string{}
	var lastKey string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### BEGIN INIT INFO"):
			in = true
			continue
		case strings.HasPrefix(line, "### END INIT INFO"):
			in = false
		}
		if !in || !strings.HasPrefix(line, "#") {
			continue
		}
		body := strings.TrimPrefix(line, "#")
		// Continuation lines of Description start with "#" and blanks.
		if (strings.HasPrefix(body, " ") || strings.HasPrefix(body, "\t")) && lastKey == "Description" {
			header[lastKey] += " " + strings.TrimSpace(body)
			continue
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(body), ":"); ok {
			lastKey = k
			header[k] = strings.TrimSpace(v)
		}
	}
	short := header["Short-Description"]
	if short == "" {
		short = name
	}
	long := header["Description"]
	if long == "" {
		long = short
	}
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	fmt.Fprintf(&b, `<?xml version="1.0"?>
<resource-agent name="%s" version="0.1">
  <version>1.1</version>
  <longdesc lang="en">%s</longdesc>
  <shortdesc lang="en">%s</shortdesc>
  <parameters/>
  <actions>
    <action name="meta-data" timeout="5s"/>
    <action name="start" timeout="15s"/>
    <action name="stop" timeout="15s"/>
    <action name="status" timeout="15s"/>
    <action name="restart" timeout="15s"/>
    <action name="force-reload" timeout="15s"/>
    <action name="monitor" timeout="15s" interval="15s"/>
  </actions>
  <special tag="LSB">
`, esc(name), esc(long), esc(short))
	for _, k := range []string{"Provides", "Required-Start", "Required-Stop", "Should-Start", "Should-Stop", "Default-Start", "Default-Stop"} {
		if v, ok := header[k]; ok {
			tag := strings.ToLower(k)
			fmt.Fprintf(&b, "    <%s>%s</%s>\n", tag, esc(v), tag)
		}
	}
	b.WriteString("  </special>\n</resource-agent>\n")
	return b.Bytes(), nil
}
