package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// newCIBCommand exports and imports whole CIBs (cibadmin --query and
// --replace), of the live cluster through vigil-crmd or of a file.
func newCIBCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "cib", Short: "Export or import a whole CIB in Pacemaker's XML (like cibadmin --query / --replace)"}
	var file string
	cmd.PersistentFlags().StringVarP(&file, "cib-file", "x", "", "work on the CIB in this XML file instead of the live one")

	var format, id, path string
	export := &cobra.Command{
		Use:   "export",
		Short: "Print the CIB as XML normalised by Vigil's codec (-o xml), or as JSON (-o json); --id or --path print elements of it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "xml" && format != "json" {
				return fmt.Errorf("-o %q: want xml or json", format)
			}
			if id != "" || path != "" {
				return exportElements(cmd, g, file, id, path, format)
			}
			var c *cib.CIB
			if file == "" {
				xml, err := queryLive(cmd.Context(), g)
				if err != nil {
					return err
				}
				if format == "xml" {
					_, err := cmd.OutOrStdout().Write(xml)
					return err
				}
				if c, err = cib.Unmarshal(xml); err != nil {
					return err
				}
			} else {
				var err error
				if c, err = readCIBFile(file); err != nil {
					return err
				}
			}
			if format == "json" {
				return writeCIBJSON(cmd.OutOrStdout(), c)
			}
			return cib.Encode(cmd.OutOrStdout(), c)
		},
	}
	export.Flags().StringVarP(&format, "output", "o", "xml", "output format: xml or json")
	export.Flags().StringVar(&id, "id", "", "print only the element with this id (like cibadmin --query --xpath \"//*[@id='ID']\")")
	export.Flags().StringVar(&path, "path", "", "print only the elements this path names: /cib/configuration/resources, //primitive[@type='Dummy'] (docs/crm-cib.md)")

	var force bool
	var ifVersion string
	imp := &cobra.Command{
		Use:   "import INPUT.xml",
		Short: "Replace the CIB with INPUT.xml after checking it as `vigil verify` does; refuses a CIB with errors",
		Long: `Replace the CIB with INPUT.xml. The input is decoded and verified first: a
CIB with errors is refused (exit status 78) and nothing is written; warnings
are printed. Like cibadmin --replace, an input whose version
(admin_epoch:epoch:num_updates) is older than the current CIB's is refused
unless --force. Without --cib-file the CIB of the running cluster is
replaced through vigil-crmd: the command returns once the change is in the
cluster's agreed order and saved by the node asked; the cluster keeps the
input's version when it is newer than its own, and bumps its own epoch
otherwise. --if-version makes the import fail, changing nothing, when the
cluster's CIB is no longer at the version given (someone else changed it).
With --cib-file the file is replaced atomically (temporary file, fsync,
rename, fsync of the directory), readable by its owner only since a CIB can
hold fencing passwords.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := readCIBFile(args[0])
			if err != nil {
				return &exitError{code: exitConfigInvalid, err: err}
			}
			problems := cib.Verify(c)
			writeProblems(cmd.ErrOrStderr(), problems)
			if cib.HasErrors(problems) {
				where := file
				if where == "" {
					where = "the cluster's CIB"
				}
				return &exitError{code: exitConfigInvalid, err: fmt.Errorf("%s has errors: not imported, %s is unchanged", args[0], where)}
			}
			if file == "" {
				return importLive(cmd, g, args[0], c, ifVersion, force)
			}
			if ifVersion != "" {
				return errors.New("--if-version is for the live CIB")
			}
			old, err := readCIBFile(file)
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil && !force:
				return fmt.Errorf("the current CIB cannot be read (%w); use --force to replace it anyway", err)
			case err == nil && old.Version.Newer(c.Version) && !force:
				return fmt.Errorf("%s has version %s, older than %s's %s: raise epoch (or admin_epoch) in the input, or use --force", args[0], c.Version, file, old.Version)
			}
			if err := writeFileAtomic(file, cib.Marshal(c), 0o600); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %s into %s (version %s)\n", args[0], file, c.Version)
			return nil
		},
	}
	imp.Flags().BoolVar(&force, "force", false, "replace even a newer or unreadable CIB")
	imp.Flags().StringVar(&ifVersion, "if-version", "", "live CIB only: replace only if the cluster's CIB is at this version (admin_epoch:epoch:num_updates, as export printed it)")
	cmd.AddCommand(export, imp)
	return cmd
}

// writeCIBJSON prints the model as JSON, leaving out empty fields.
func writeCIBJSON(w io.Writer, c *cib.CIB) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return err
	}
	v, _ = pruneJSON(v)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// pruneJSON drops empty strings, nulls, empty arrays and empty objects; it
// reports whether anything is left of v.
func pruneJSON(v any) (any, bool) {
	switch t := v.(type) {
	case nil:
		return nil, false
	case string:
		return t, t != ""
	case []any:
		out := []any{}
		for _, e := range t {
			if p, ok := pruneJSON(e); ok {
				out = append(out, p)
			} else {
				// Keep positions in lists: an element emptied by pruning
				// is still an element.
				out = append(out, map[string]any{})
			}
		}
		return out, len(out) > 0
	case map[string]any:
		for k, e := range t {
			if p, ok := pruneJSON(e); ok {
				t[k] = p
			} else {
				delete(t, k)
			}
		}
		return t, len(t) > 0
	}
	return v, true
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, fsync, rename over path, fsync of the directory, so a crash
// leaves either the old file or the new one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
