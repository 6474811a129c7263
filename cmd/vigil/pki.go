package main

import (
	"fmt"
	"net"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/internal/daemon"
	"github.com/vigil-ha/vigil/internal/pki"
)

func newPKICommand(g *globalFlags) *cobra.Command {
	var pkiDir, keyType string
	cmd := &cobra.Command{
		Use:   "pki",
		Short: "Manage the cluster CA and certificates (Vigil's corosync-keygen)",
	}
	cmd.PersistentFlags().StringVar(&pkiDir, "pki-dir", "", "PKI directory (default "+daemon.DefaultPKIDir+", or DIR/pki with --dir)")
	cmd.PersistentFlags().StringVar(&keyType, "key-type", string(pki.KeyECDSAP256), "key algorithm: ecdsa-p256 or ed25519")
	dirOf := func() string {
		switch {
		case pkiDir != "":
			return pkiDir
		case g.dir != "":
			return filepath.Join(g.dir, "pki")
		default:
			return daemon.DefaultPKIDir
		}
	}

	var force bool
	var clusterName string
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create the cluster CA",
		Long: "Create the cluster CA (ca.crt, ca.key) that signs every node, admin and reader certificate.\n" +
			"An existing CA is kept unless --force is given: replacing it invalidates every issued certificate.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := dirOf()
			if err := pki.InitCA(dir, pki.Options{KeyType: pki.KeyType(keyType), Force: force, ClusterName: clusterName}); err != nil {
				return err
			}
			cert, key := pki.CAPaths(dir)
			fmt.Fprintf(cmd.OutOrStdout(), "created cluster CA %s (key %s, mode 0600)\n", cert, key)
			return nil
		},
	}
	initCmd.Flags().BoolVar(&force, "force", false, "replace an existing CA")
	initCmd.Flags().StringVar(&clusterName, "cluster-name", "", "cluster name written into the CA")

	var ips, dnsNames []string
	issueCmd := &cobra.Command{
		Use:   "issue node|admin|reader NAME",
		Short: "Issue a certificate for a node, an administrator or a read-only client",
		Long: "Issue a certificate signed by the cluster CA. The role decides what its holder may do:\n" +
			"  node    a cluster member (NAME must be its name in the nodelist); daemons serve and call each other with it\n" +
			"  admin   may read and change everything\n" +
			"  reader  may only read",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			role, err := pki.ParseRole(args[0])
			if err != nil {
				return err
			}
			opts := pki.Options{KeyType: pki.KeyType(keyType), Force: force, DNSNames: dnsNames}
			for _, s := range ips {
				ip := net.ParseIP(s)
				if ip == nil {
					return fmt.Errorf("--ip %q is not an IP address", s)
				}
				opts.IPs = append(opts.IPs, ip)
			}
			cert, key, err := pki.Issue(dirOf(), role, args[1], opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "issued %s certificate %s (key %s, mode 0600)\n", role, cert, key)
			return nil
		},
	}
	issueCmd.Flags().BoolVar(&force, "force", false, "replace an existing certificate")
	issueCmd.Flags().StringSliceVar(&ips, "ip", nil, "extra IP address the node certificate is valid for")
	issueCmd.Flags().StringSliceVar(&dnsNames, "dns", nil, "extra DNS name the node certificate is valid for")

	cmd.AddCommand(initCmd, issueCmd)
	return cmd
}
