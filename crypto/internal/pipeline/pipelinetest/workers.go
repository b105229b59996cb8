package pipelinetest

import (
	"fmt"
	"testing"

	"cse-workshop/crypto/internal/pipeline"
)

// SetWorkers makes the pipelines run with n workers for the rest of t
// (pipeline.WorkersEnv): 1 is the sequential path.
func SetWorkers(t *testing.T, n int) {
	t.Setenv(pipeline.WorkersEnv, fmt.Sprint(n))
}
