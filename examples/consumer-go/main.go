// A stack that uses the etcd-pulumi package from Go, the way another team would: `pulumi package add`
// (or `pulumi install`) generates the Go SDK from the package's TypeScript component, then one
// EtcdCluster from this stack's config.
package main

import (
	"example.com/pulumi-etcd-pulumi/sdk/go/etcdpulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		var members []etcdpulumi.EtcdMemberArgs
		cfg.RequireObject("members", &members)
		sshUser := cfg.Get("sshUser")
		if sshUser == "" {
			sshUser = "root"
		}
		args := &etcdpulumi.EtcdClusterArgs{
			Members: members,
			Ssh:     etcdpulumi.EtcdSshArgs{User: pulumi.StringRef(sshUser), PrivateKey: cfg.RequireSecret("sshPrivateKey")},
		}
		// Unset settings stay unset: the component's defaults apply.
		if v := cfg.Get("version"); v != "" {
			args.Version = pulumi.StringRef(v)
		}
		var binary etcdpulumi.EtcdBinarySourceArgs
		if err := cfg.TryObject("binary", &binary); err == nil {
			args.Binary = &binary
		}
		if v, err := cfg.TryFloat64("healthTimeoutSeconds"); err == nil {
			args.HealthTimeoutSeconds = pulumi.Float64Ref(v)
		}
		if v, err := cfg.TryBool("purgeDataOnDestroy"); err == nil {
			args.PurgeDataOnDestroy = pulumi.BoolRef(v)
		}
		etcd, err := etcdpulumi.NewEtcdCluster(ctx, "shared-etcd", args)
		if err != nil {
			return err
		}
		// What an apiserver stack needs; etcdEndpoints resolves only once every member is healthy.
		ctx.Export("etcdEndpoints", etcd.ClientEndpoints)
		ctx.Export("etcdCaCertPem", etcd.CaCertPem)
		ctx.Export("apiserverCertPem", etcd.ApiserverCertPem)
		ctx.Export("apiserverKeyPem", etcd.ApiserverKeyPem)
		return nil
	})
}
