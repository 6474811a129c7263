package classes

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/vigil-ha/vigil/lrmd/agent"
)

// Service is Pacemaker's "service" class: an alias that runs an agent as
// an LSB script when /etc/init.d has one of that name, and otherwise as a
// systemd unit where systemd is init. LSB is looked at first, as
// Pacemaker's resources_find_service_class does, so that a node with both
// an init script and a (generated) unit of the same name behaves as it did
// under Pacemaker.
type Service struct {
	lsb     *LSB
	systemd *Systemd
}

var _ agent.Class = (*Service)(nil)

// NewService returns the service class over the node's lsb and systemd
// classes.
func NewService(lsb *LSB, systemd *Systemd) *Service {
	return &Service{lsb: lsb, systemd: systemd}
}

// Name returns "service".
func (c *Service) Name() string { return "service" }

// Available reports an error only when neither lsb nor systemd can run.
func (c *Service) Available() error {
	lerr, serr := c.lsb.Available(), c.systemd.Available()
	if lerr != nil && serr != nil {
		return fmt.Errorf("service: neither lsb (%v) nor systemd (%v) is available", lerr, serr)
	}
	return nil
}

// Providers returns nil: service has no providers.
func (c *Service) Providers() ([]string, error) { return nil, nil }

// Agents lists the LSB scripts and, where systemd is init, the service
// units, each name once.
func (c *Service) Agents(string) ([]string, error) {
	seen := map[string]bool{}
	var errs []error
	for _, cl := range []agent.Class{c.lsb, c.systemd} {
		if cl.Available() != nil {
			continue
		}
		names, err := cl.Agents("")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, n := range names {
			seen[n] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return names, nil
}

// resolve picks the class that runs typ, or says where it looked.
func (c *Service) resolve(typ string) (agent.Class, error) {
	if !validName(typ) {
		return nil, fmt.Errorf("service:%s: invalid name", typ)
	}
	script := filepath.Join(c.lsb.cfg.Dir, typ)
	if executable(script) {
		return c.lsb, nil
	}
	if err := c.systemd.Available(); err != nil {
		return nil, fmt.Errorf("service:%s: no executable LSB script at %s, and no systemd to ask for a unit (%v)", typ, script, err)
	}
	return c.systemd, nil
}

// Exec runs op through the class resolve picks.
func (c *Service) Exec(ctx context.Context, op agent.Operation) agent.Result {
	cl, err := c.resolve(op.Type)
	if err != nil {
		return notInstalled("%v", err)
	}
	return cl.Exec(ctx, op)
}

// Metadata returns the meta-data of the class resolve picks.
func (c *Service) Metadata(ctx context.Context, _, typ string) ([]byte, error) {
	cl, err := c.resolve(typ)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, agent.ErrNotInstalled)
	}
	return cl.Metadata(ctx, "", typ)
}
