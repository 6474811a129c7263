// Package logging builds the structured logger of a Vigil process from the
// `logging` section of the configuration.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/vigil-ha/vigil/internal/config"
)

// New returns the logger of the daemon named service on node, and a closer
// for the log file it opened, if any. Lines go to stderr when to_stderr or
// to_syslog is on (under systemd, stderr is the journal, which is where
// syslog lines end up too) and to logfile when to_logfile is on; with
// neither, to stderr, so that a daemon is never silent. debug: on or trace
// lowers the level to Debug.
func New(cfg config.Logging, stderr io.Writer, service, node string) (*slog.Logger, io.Closer, error) {
	var writers []io.Writer
	var closer io.Closer = nopCloser{}
	if cfg.ToLogfile && cfg.Logfile != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.Logfile), 0o755); err != nil {
			return nil, nil, fmt.Errorf("logging: %w", err)
		}
		f, err := os.OpenFile(cfg.Logfile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("logging: open logfile: %w", err)
		}
		writers = append(writers, f)
		closer = f
	}
	if cfg.ToStderr || cfg.ToSyslog || len(writers) == 0 {
		writers = append(writers, stderr)
	}
	level := slog.LevelInfo
	if cfg.Debug == "on" || cfg.Debug == "trace" {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if !cfg.Timestamp {
		// corosync's timestamp: off; journald adds its own.
		opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
	}
	h := slog.NewTextHandler(io.MultiWriter(writers...), opts)
	return slog.New(h).With("daemon", service, "node", node), closer, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
