package steps_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cse-workshop/steps"
)

// TestStepCodeShowsTheCalls checks that each step's code view finds its
// parts in the embedded source and that they hold the SDK calls the step
// makes: a marker moved or deleted, or a call moved out of its part, fails.
func TestStepCodeShowsTheCalls(t *testing.T) {
	want := map[int][]string{
		1: {"KMS.DescribeKey(", "NotFoundException", "KMS.CreateKey(", "kms.CreateKeyInput{", "Tags:", "KMS.CreateAlias(", "TargetKeyId"},
		2: {"esdk.EncryptFile(", "EncryptionContext:", "k.GenerateDataKey(", "NumberOfBytes", "clear(dataKey)", "aead.Seal("},
		3: {"esdk.DecryptFile(", "KeyIDs:", "k.Decrypt(", "CiphertextBlob", "EncryptionContext: ec", "clear(dataKey)", "checkCommitKey("},
		4: {"sha256.New()", "io.Copy(", "original.SHA256 == cycled.SHA256"},
		5: {"cloudtrail.LookupEventsInput{", "LookupAttributeKeyEventName", `"GenerateDataKey"`, "CloudTrail.LookupEvents(", "containsPairs("},
		6: {"KMS.ScheduleKeyDeletion(", "PendingWindowInDays", "KMS.DeleteAlias(", "removeIfExists("},
	}
	for _, s := range steps.All() {
		snippets, err := steps.StepCode(s.Number)
		if err != nil {
			t.Errorf("StepCode(%d): %v", s.Number, err)
			continue
		}
		if len(snippets) == 0 {
			t.Errorf("StepCode(%d) is empty", s.Number)
			continue
		}
		var all strings.Builder
		for _, sn := range snippets {
			if strings.TrimSpace(sn.Code) == "" || sn.Line < 1 || !strings.HasSuffix(sn.File, ".go") {
				t.Errorf("StepCode(%d) has an empty snippet or no place: %+v", s.Number, sn)
			}
			if strings.Contains(sn.Code, "// show:") {
				t.Errorf("StepCode(%d): snippet of %s:%d shows a marker:\n%s", s.Number, sn.File, sn.Line, sn.Code)
			}
			if strings.HasPrefix(sn.Code, "\t") {
				t.Errorf("StepCode(%d): snippet of %s:%d keeps its indent:\n%s", s.Number, sn.File, sn.Line, sn.Code)
			}
			if got, first := lineOf(t, sn.File, sn.Line), strings.SplitN(sn.Code, "\n", 2)[0]; strings.TrimSpace(got) != strings.TrimSpace(first) {
				t.Errorf("StepCode(%d): %s:%d is %q, but the snippet starts with %q", s.Number, sn.File, sn.Line, got, first)
			}
			all.WriteString(sn.Code + "\n")
		}
		for _, call := range want[s.Number] {
			if !strings.Contains(all.String(), call) {
				t.Errorf("StepCode(%d) lacks %q; it shows:\n%s", s.Number, call, all.String())
			}
		}
	}
	if _, err := steps.StepCode(7); err == nil {
		t.Error("StepCode(7) = nil error, want one: there is no step 7")
	}
}

// lineOf reads line n of a file of the module, from the source tree.
func lineOf(t *testing.T, path string, n int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}
