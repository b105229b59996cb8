// Package awsclienttest gives tests an environment that no AWS setting of
// the machine reaches, as net/http/httptest gives them a server.
package awsclienttest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// IsolateAWS leaves the test no AWS_* variable, an empty HOME and empty AWS
// config and credentials files, all restored when the test ends, and
// returns the temporary HOME. Instance metadata is the caller's choice
// (AWS_EC2_METADATA_DISABLED, or a server of its own).
func IsolateAWS(t *testing.T) string {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") {
			t.Setenv(name, "") // restored after the test
			os.Unsetenv(name)
		}
	}
	home := t.TempDir()
	empty := filepath.Join(home, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	return home
}
