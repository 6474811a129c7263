package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// exitConfigInvalid is crm_verify's exit status for a configuration with
// errors (CRM_EX_CONFIG).
const exitConfigInvalid = 78

// errLiveCIB is what commands that work on files only (vigil configure,
// for now) answer without --cib-file; cibclient is the live API.
var errLiveCIB = errors.New("live CIB needs vigil-crmd, not available yet; use --cib-file FILE")

// newVerifyCommand is crm_verify's counterpart.
func newVerifyCommand(g *globalFlags) *cobra.Command {
	var file, output string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check a CIB for errors (like crm_verify -x FILE / -L); exits 78 when it has errors",
		Long: `Check a CIB for errors, like crm_verify: dangling references, duplicate
ids, invalid scores, durations, roles and operation names, nesting Pacemaker
does not allow, fencing levels and stonith-enabled without a fencing device.
Errors make the exit status 78 (crm_verify's); warnings are printed and the
exit status stays 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o %q: want text or json", output)
			}
			var c *cib.CIB
			var err error
			name := file
			if file == "" {
				name = "the live CIB"
				xml, err := queryLive(cmd.Context(), g)
				if err != nil {
					return err
				}
				if c, err = cib.Unmarshal(xml); err != nil {
					return &exitError{code: exitConfigInvalid, err: err}
				}
			} else if c, err = readCIBFile(file); err != nil {
				return &exitError{code: exitConfigInvalid, err: err}
			}
			problems := cib.Verify(c)
			if output == "json" {
				if err := writeVerifyJSON(cmd.OutOrStdout(), name, problems); err != nil {
					return err
				}
			} else {
				writeProblems(cmd.OutOrStdout(), problems)
			}
			if cib.HasErrors(problems) {
				return &exitError{code: exitConfigInvalid, err: fmt.Errorf("errors found during check of %s: config not valid", name)}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "cib-file", "x", "", "check the CIB in this XML file instead of the live one")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// readCIBFile decodes the CIB XML in path.
func readCIBFile(path string) (*cib.CIB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := cib.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// writeProblems prints one problem a line, errors first, then a summary
// line when there are any, worded as crm_verify's.
func writeProblems(w io.Writer, problems []cib.Problem) {
	for _, p := range problems {
		fmt.Fprintln(w, p)
	}
	switch {
	case cib.HasErrors(problems):
		fmt.Fprintln(w, "Errors found during check: config not valid")
	case len(problems) > 0:
		fmt.Fprintln(w, "Warnings found during check: config may not be valid")
	}
}

type problemJSON struct {
	Severity string `json:"severity"`
	ID       string `json:"id,omitempty"`
	Message  string `json:"message"`
}

func writeVerifyJSON(w io.Writer, file string, problems []cib.Problem) error {
	out := struct {
		File     string        `json:"file"`
		Valid    bool          `json:"valid"`
		Problems []problemJSON `json:"problems"`
	}{File: file, Valid: !cib.HasErrors(problems), Problems: []problemJSON{}}
	for _, p := range problems {
		out.Problems = append(out.Problems, problemJSON{Severity: p.Severity.String(), ID: p.ID, Message: p.Message})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
