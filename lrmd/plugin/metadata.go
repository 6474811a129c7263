package plugin

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/plugins/sdk"
)

// The OCF meta-data document (resource-agent API 1.1), as ocf agents print
// it for the meta-data action.
type raXML struct {
	XMLName    xml.Name   `xml:"resource-agent"`
	Name       string     `xml:"name,attr"`
	Version    string     `xml:"version,attr,omitempty"`
	APIVersion string     `xml:"version"`
	LongDesc   descXML    `xml:"longdesc"`
	ShortDesc  descXML    `xml:"shortdesc"`
	Parameters []paramXML `xml:"parameters>parameter"`
	Actions    []actXML   `xml:"actions>action"`
}

type descXML struct {
	Lang string `xml:"lang,attr"`
	Text string `xml:",chardata"`
}

type paramXML struct {
	Name      string     `xml:"name,attr"`
	Unique    int        `xml:"unique,attr"`
	Required  int        `xml:"required,attr"`
	LongDesc  descXML    `xml:"longdesc"`
	ShortDesc descXML    `xml:"shortdesc"`
	Content   contentXML `xml:"content"`
}

type contentXML struct {
	Type    string `xml:"type,attr"`
	Default string `xml:"default,attr,omitempty"`
}

type actXML struct {
	Name     string `xml:"name,attr"`
	Timeout  string `xml:"timeout,attr"`
	Interval string `xml:"interval,attr,omitempty"`
}

// metadataXML renders info as OCF meta-data for agent typ. The meta-data
// action is always listed: the class answers it itself.
func metadataXML(typ string, info sdk.Info) ([]byte, error) {
	short := info.ShortDescription
	if short == "" {
		short, _, _ = strings.Cut(info.Description, "\n")
	}
	long := info.Description
	if long == "" {
		long = short
	}
	doc := raXML{
		Name:       typ,
		Version:    info.Version,
		APIVersion: "1.1",
		LongDesc:   descXML{"en", long},
		ShortDesc:  descXML{"en", short},
	}
	for _, p := range info.Parameters {
		typ := p.Type
		if typ == "" {
			typ = sdk.TypeString
		}
		ps, _, _ := strings.Cut(p.Description, "\n")
		doc.Parameters = append(doc.Parameters, paramXML{
			Name:      p.Name,
			Unique:    b2i(p.Unique),
			Required:  b2i(p.Required),
			LongDesc:  descXML{"en", p.Description},
			ShortDesc: descXML{"en", ps},
			Content:   contentXML{Type: typ, Default: p.Default},
		})
	}
	actions := info.Actions
	if len(actions) == 0 {
		actions = sdk.DefaultActions()
	}
	hasMD := false
	for _, a := range actions {
		hasMD = hasMD || a.Name == "meta-data"
		doc.Actions = append(doc.Actions, actXML{Name: a.Name, Timeout: ocfDuration(a.Timeout, 20*time.Second), Interval: ocfDuration(a.Interval, 0)})
	}
	if !hasMD {
		doc.Actions = append(doc.Actions, actXML{Name: "meta-data", Timeout: "5s"})
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("plugin: %s: meta-data: %w", typ, err)
	}
	head := xml.Header + `<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">` + "\n"
	return append([]byte(head), append(out, '\n')...), nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ocfDuration writes d as OCF meta-data does ("20s"), def when d is zero;
// empty when both are.
func ocfDuration(d, def time.Duration) string {
	if d == 0 {
		d = def
	}
	if d == 0 {
		return ""
	}
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}
