package fidelity

import (
	"testing"
	"time"

	"cse-workshop/internal/toolbin"
)

// localKMSEnv carries the path of the built local-kms binary into the test
// that runs inside the network namespace.
const localKMSEnv = "CSE_FIDELITY_LOCAL_KMS"

// localKMSModule is the main package of local-kms, pinned by tools/localkms.
const localKMSModule = "github.com/nsmithuk/local-kms"

// buildLocalKMS builds local-kms from the module pinned in tools/localkms
// and returns the binary's path, or skips the test.
func buildLocalKMS(t *testing.T) string {
	t.Helper()
	return toolbin.Build(t, "localkms", localKMSModule, 5*time.Minute)
}
