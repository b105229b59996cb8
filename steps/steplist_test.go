package steps_test

import (
	"testing"

	"cse-workshop/steps"
)

// TestStepListSaysWhatSetsStepsApart checks the fields the displays rely on
// instead of step numbers: numbered in order from 1, the first starts the
// workshop, one waits for the audit trail, the last cleans up.
func TestStepListSaysWhatSetsStepsApart(t *testing.T) {
	all := steps.All()
	var audit, cleanup []int
	for i, s := range all {
		if s.Number != i+1 {
			t.Errorf("step %d of the list is numbered %d", i+1, s.Number)
		}
		if s.StartsWorkshop != (i == 0) {
			t.Errorf("step %d: StartsWorkshop = %v, want it on the first step only", s.Number, s.StartsWorkshop)
		}
		if s.WaitsForAudit {
			audit = append(audit, s.Number)
		}
		if s.CleansUp {
			cleanup = append(cleanup, s.Number)
		}
	}
	if len(audit) != 1 {
		t.Errorf("steps waiting for the audit trail = %v, want one", audit)
	}
	if len(cleanup) != 1 || cleanup[0] != len(all) {
		t.Errorf("steps cleaning up = %v, want the last one only", cleanup)
	}
}
