// Command pulumi-resource-kubernetes: the upstream Pulumi Kubernetes provider. Upstream's main embeds
// schema-embed.json and terraform-mapping-embed.json, which its `go generate` writes from the module's
// schema.json and terraform-mapping.json; tools/pulumi/build.ts does the same into this folder (git-ignored).
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
