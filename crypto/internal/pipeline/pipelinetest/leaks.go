// Package pipelinetest helps the tests of the code that runs pipelines.
package pipelinetest

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

// pipelineFrames is how a pipeline's goroutine shows in a stack dump: a
// closure of pipeline.Run, "created by" it. (The package's own tests show
// as pipeline_test.Test…, which is not a pipeline.)
var pipelineFrames = []byte("cse-workshop/crypto/internal/pipeline.Run[")

// NoLeaks fails t if a goroutine of a pipeline that f ran outlives f.
//
// It looks for the pipeline's own frames in every goroutine's stack, not
// at the number of goroutines, which the runtime, the race detector and
// the testing package change on their own. Run waits for its goroutines,
// but one may still be on its way out after its last act: it gets a
// moment to finish.
func NoLeaks(t testing.TB, f func()) {
	t.Helper()
	f()
	deadline := time.Now().Add(5 * time.Second)
	for {
		stacks := allStacks()
		if !bytes.Contains(stacks, pipelineFrames) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("a pipeline's goroutine outlived it:\n%s", stacks)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// allStacks is the stack dump of every goroutine but the caller's.
func allStacks() []byte {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	// The first goroutine is the caller's own: the test, whose stack
	// may hold the pipeline's frames only as a caller that returned.
	if i := bytes.Index(buf, []byte("\n\ngoroutine ")); i >= 0 {
		return buf[i:]
	}
	return nil
}
