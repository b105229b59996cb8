package main

import (
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The README names every sub-command and every flag, keeps the live-AWS
// section with its least-privilege policy, and links the file format: a
// change to the README that drops one of them fails here.
func TestReadmeCoversTheCommandLine(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, want := range []string{"## Live AWS (`--aws`)", "docs/iam-policy.json", "docs/FORMAT.md", "## Run it for a room", "go run .", "go test ./..."} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		if c.HasParent() && !strings.Contains(readme, c.CommandPath()[len(c.Root().Name())+1:]) {
			t.Errorf("README.md does not name the command %q", c.CommandPath())
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Name != "help" && !f.Hidden && !strings.Contains(readme, "--"+f.Name) {
				t.Errorf("README.md does not name %s's flag --%s", c.CommandPath(), f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk((&app{}).rootCommand())
}
