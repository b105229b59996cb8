package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient"
	"cse-workshop/internal/text"
)

// Putting back what an experiment changed in a KMS key's state, even when
// the process that changed it was killed: before the change the experiment
// saves in the progress what putting the key back takes (State.Restore),
// and clears it once the key is back. A record left behind (a kill -9, a
// crash, a restore that failed) is carried out by the next step or
// experiment that starts in the workshop, before anything else (Run,
// RunExperiment). On real AWS that needs no new confirmation: the learner
// agreed to the experiment, which always puts the key back; the status
// lines say it happens in the learner's account.
//
// Output rules: as the steps'. The first line says that what an
// interrupted experiment changed is being put back; then one line says
// what was done, or why nothing was (the key is already as it was, no
// longer exists, or was changed by someone since, who is not overruled).

// RestoreAction is what putting a KMS key back takes. The zero value is
// invalid.
type RestoreAction string

const (
	// RestoreEnable enables the key again: it was Enabled before.
	RestoreEnable RestoreAction = "enable-key"
	// RestoreScheduleDeletion schedules the key's deletion again: it was
	// PendingDeletion before.
	RestoreScheduleDeletion RestoreAction = "schedule-key-deletion"
)

// PendingRestore is what an experiment must put back in a KMS key's state.
type PendingRestore struct {
	Experiment string        `json:"experiment"` // the experiment's ID
	KeyARN     string        `json:"keyArn"`
	Action     RestoreAction `json:"action"`
	// PendingWindowInDays is the deletion window to schedule again, for
	// RestoreScheduleDeletion.
	PendingWindowInDays int       `json:"pendingWindowInDays,omitempty"`
	Since               time.Time `json:"since"` // when the experiment began to change the key
}

// recordRestore saves in the progress, before an experiment changes the
// state of the workshop's key, what putting it back takes. When it cannot
// be saved, the experiment must change nothing.
func (w *Workshop) recordRestore(experimentID string, action RestoreAction) error {
	rec := &PendingRestore{Experiment: experimentID, KeyARN: w.State.KeyARN, Action: action, Since: w.Clock.Now()}
	if action == RestoreScheduleDeletion {
		rec.PendingWindowInDays = deletionWindowInDays
	}
	w.State.Restore = rec
	if err := w.Save(); err != nil {
		w.State.Restore = nil
		return fmt.Errorf("nothing was changed: the experiment could not first save what it must put back: %w", err)
	}
	return nil
}

// putBackInterrupted carries out the restore an interrupted experiment
// left in the progress, if any, and clears it. It looks at the key first,
// so that it does only what is still needed. When the key cannot be put
// back, the record stays, for the next start, and the error says which
// AWS CLI commands put it back by hand.
func putBackInterrupted(ctx context.Context, w *Workshop, p reporter) error {
	rec := w.State.Restore
	if rec == nil {
		return nil
	}
	title := rec.Experiment
	if e, ok := GetExperiment(rec.Experiment); ok {
		title = e.Title
	}
	where := ""
	if w.Live() {
		where = " in your AWS account"
	}
	switch rec.Action {
	case RestoreEnable:
		p.warn("putting back what an interrupted experiment changed: %q stopped before it enabled KMS key %s again%s", title, rec.KeyARN, where)
	case RestoreScheduleDeletion:
		p.warn("putting back what an interrupted experiment changed: %q stopped before it scheduled the deletion of KMS key %s again%s", title, rec.KeyARN, where)
	default:
		return awsclient.WithHint(fmt.Errorf("put back what the interrupted experiment %q changed: it left %q to do, which this cse-workshop does not know", title, rec.Action),
			fmt.Sprintf("check KMS key %s with %s, then use the cse-workshop that ran the experiment, or remove \"restore\" from %s",
				rec.KeyARN, w.awsCLI("kms describe-key --key-id "+rec.KeyARN), w.path(privateDir+"/"+stateFile)))
	}
	if err := putKeyBack(ctx, w, p, rec); err != nil {
		if ctxErr(err) {
			return err
		}
		// AWS's reason, restated after what could not be done: alone it
		// would not say which key, or why the step did not run.
		what := fmt.Sprintf("put back KMS key %s, which the interrupted experiment %q changed: %s", rec.KeyARN, title, awsclient.Explain(err).What)
		return awsclient.WithAdvice(fmt.Errorf("put back KMS key %s: %w", rec.KeyARN, err), awsclient.Advice{What: what, Hint: restoreHint(w, rec, err)})
	}
	w.State.Restore = nil
	return w.Save()
}

// putKeyBack does what rec says is left to do, unless the key no longer
// needs it.
func putKeyBack(ctx context.Context, w *Workshop, p reporter, rec *PendingRestore) error {
	md, err := describeKey(ctx, w, rec.KeyARN)
	if err != nil {
		return err
	}
	if md == nil {
		p.info("KMS key %s no longer exists: nothing to put back", rec.KeyARN)
		return nil
	}
	switch rec.Action {
	case RestoreEnable:
		switch md.KeyState {
		case types.KeyStateEnabled:
			p.info("KMS key %s is enabled: nothing to put back", rec.KeyARN)
		case types.KeyStateDisabled:
			if _, err := w.Clients.KMS.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(rec.KeyARN)}); err != nil {
				return fmt.Errorf("enable KMS key %s: %w", rec.KeyARN, err)
			}
			p.info("enabled KMS key %s again, as it was before the experiment", rec.KeyARN)
		default:
			// Scheduled for deletion since, by the learner: not ours to undo.
			p.warn("KMS key %s is %s now, which the experiment did not do: left as it is", rec.KeyARN, md.KeyState)
		}
		return nil
	case RestoreScheduleDeletion:
		if md.KeyState == types.KeyStatePendingDeletion {
			when := aws.ToTime(md.DeletionDate)
			w.noteDeletion(rec.KeyARN, when)
			p.line(LevelInfo, &DeletionDetail{KeyARN: rec.KeyARN, DeletionDate: when},
				"KMS key %s is already scheduled for deletion, on %s: nothing to put back", rec.KeyARN, text.Date(when))
			return nil
		}
		// As step 6: only a key this tool made is ever scheduled for deletion.
		tags, err := keyTags(ctx, w, rec.KeyARN)
		if err != nil {
			return err
		}
		if tags[createdByTagKey] != toolName {
			p.warn("KMS key %s is not tagged %s=%s: cse-workshop does not delete it; left as it is", rec.KeyARN, createdByTagKey, toolName)
			return nil
		}
		out, err := w.Clients.KMS.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{
			KeyId:               aws.String(rec.KeyARN),
			PendingWindowInDays: aws.Int32(int32(restoreWindow(rec))),
		})
		if err != nil {
			return fmt.Errorf("schedule deletion of %s: %w", rec.KeyARN, err)
		}
		when := aws.ToTime(out.DeletionDate)
		w.noteDeletion(rec.KeyARN, when)
		p.line(LevelInfo, &DeletionDetail{KeyARN: rec.KeyARN, DeletionDate: when},
			"scheduled KMS key %s for deletion again, on %s, as it was before the experiment", rec.KeyARN, text.Date(when))
		return nil
	}
	panic("steps: putKeyBack of unknown action " + string(rec.Action)) // putBackInterrupted checks it first
}

// restoreWindow is the deletion window rec asks for, within what KMS
// accepts.
func restoreWindow(rec *PendingRestore) int {
	if rec.PendingWindowInDays < 7 || rec.PendingWindowInDays > 30 {
		return deletionWindowInDays
	}
	return rec.PendingWindowInDays
}

// noteDeletion records in the progress when the workshop's key is deleted.
func (w *Workshop) noteDeletion(keyARN string, when time.Time) {
	if keyARN == w.State.KeyARN {
		w.State.KeyDeletionDate = when
	}
}

// restoreHint says how to put the key of rec back by hand: AWS's own
// advice for err when it has some (credentials, IAM), then the AWS CLI
// command, with the region and profile in use.
func restoreHint(w *Workshop, rec *PendingRestore, err error) string {
	command := "kms enable-key --key-id " + rec.KeyARN
	if rec.Action == RestoreScheduleDeletion {
		command = fmt.Sprintf("kms schedule-key-deletion --key-id %s --pending-window-in-days %d", rec.KeyARN, restoreWindow(rec))
	}
	hint := fmt.Sprintf("put the key back yourself with %s; the next step or experiment you run checks the key first, and puts it back if it still needs to",
		w.awsCLI(command))
	if advice := awsclient.Explain(err).Hint; advice != "" {
		hint = advice + "; or " + hint
	}
	return hint
}
