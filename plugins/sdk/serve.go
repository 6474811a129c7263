package sdk

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// Serve serves a as a Vigil resource agent plugin and returns when
// vigil-lrmd is done with the process. It is the whole main function of a
// plugin:
//
//	func main() { sdk.Serve(myAgent{}) }
//
// Serve uses go-plugin's gRPC protocol with automatic mutual TLS and
// negotiates ProtocolVersion with the host. It also makes slog's default
// logger write JSON lines that vigil-lrmd forwards to its own log at the
// same level, so agents log with slog.Info and friends. Run by hand
// (without the handshake's environment), the binary prints a short
// message and exits with status 1.
func Serve(a Agent) {
	if os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		fmt.Fprintf(os.Stderr, "%s is a Vigil resource agent plugin (protocol %d); vigil-lrmd runs it, put it in the plugin directory.\n",
			a.Info().Name, ProtocolVersion)
		os.Exit(1)
	}
	slog.SetDefault(slog.New(hclogJSONHandler()))
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: ServerPlugins(a),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       a.Info().Name,
			Level:      hclog.Info,
			Output:     os.Stderr,
			JSONFormat: true,
		}),
	})
}

// hclogJSONHandler writes slog records in the JSON layout go-plugin's
// host parses from a plugin's stderr (@level, @message, @timestamp).
func hclogJSONHandler() slog.Handler {
	return slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				a.Key = "@timestamp"
				// The only layout go-plugin's host accepts.
				a.Value = slog.StringValue(a.Value.Time().Format("2006-01-02T15:04:05.000000Z07:00"))
			case slog.LevelKey:
				a.Key = "@level"
				a.Value = slog.StringValue(hclogLevel(a.Value.Any()))
			case slog.MessageKey:
				a.Key = "@message"
			}
			return a
		},
	})
}

func hclogLevel(v any) string {
	l, ok := v.(slog.Level)
	if !ok {
		return "info"
	}
	switch {
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	}
	return "error"
}
