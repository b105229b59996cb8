package steps

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"cse-workshop/awsclient"
	"cse-workshop/internal/text"
)

// Step 1: the workshop's KMS key and its alias, made, found again or
// restored, whatever an earlier step 1 left.

// runCreateKey is step 1. It may be run again after it stopped at any
// point, even killed: it finds the keys it made for this workshop folder by
// their tags, gives the alias to one of them (or to a new key), and
// schedules the deletion of the others, so that no key of the folder stays
// live without the alias.
func runCreateKey(ctx context.Context, w *Workshop, r Reporter) error {
	p := reporter{w, r}
	var target *types.KeyMetadata // the alias's key
	// show:look-up-alias begin
	// Is the alias free? On a first run it is: KMS answers NotFoundException.
	lookup := awsclient.Expect(ctx, "NotFoundException", "the alias is free")
	existing, err := w.Clients.KMS.DescribeKey(lookup, &kms.DescribeKeyInput{KeyId: aws.String(AliasName)})
	var notFound *types.NotFoundException
	switch {
	case errors.As(err, &notFound):
	case err != nil:
		return fmt.Errorf("look up %s: %w", AliasName, err)
	default:
		target = existing.KeyMetadata
	}
	// show:look-up-alias end
	keys, err := folderKeys(ctx, w)
	if err != nil {
		return err
	}
	if target != nil {
		if err := retireKeys(ctx, w, p, liveKeys(keys, aws.ToString(target.KeyId)), leftOver); err != nil {
			return err
		}
		return reuseKey(ctx, w, p, target)
	}
	if md := keyToFinish(keys, w.State.KeyARN); md != nil {
		keyARN := aws.ToString(md.Arn)
		p.info("found KMS key %s, made for this workshop folder by an earlier step 1, without the alias: finishing it", keyARN)
		if err := retireKeys(ctx, w, p, liveKeys(keys, aws.ToString(md.KeyId)), leftOver); err != nil {
			return err
		}
		return aliasKey(ctx, w, p, md)
	}
	if err := retireKeys(ctx, w, p, liveKeys(keys, ""), leftOver); err != nil {
		return err
	}
	return createKey(ctx, w, p)
}

// createKey makes a new key and gives it the alias. When KMS's answer to
// CreateKey is lost (Ctrl-C, a timeout), the key may exist all the same:
// the keys of the folder without the alias are then scheduled for deletion,
// so that an interrupted step 1 leaves nothing behind that costs money.
func createKey(ctx context.Context, w *Workshop, p reporter) error {
	p.info("creating a symmetric KMS key (%q)", KeyDescription)
	// show:create-key begin
	out, err := w.Clients.KMS.CreateKey(ctx, &kms.CreateKeyInput{
		Description: aws.String(KeyDescription),
		KeyUsage:    types.KeyUsageTypeEncryptDecrypt,
		KeySpec:     types.KeySpecSymmetricDefault,
		Tags: []types.Tag{
			{TagKey: aws.String(workshopTagKey), TagValue: aws.String(workshopTagValue)},
			{TagKey: aws.String(createdByTagKey), TagValue: aws.String(toolName)},
			{TagKey: aws.String(folderTagKey), TagValue: aws.String(folderTagValue(w.Dir))},
		},
	})
	// show:create-key end
	if err != nil {
		err = fmt.Errorf("create KMS key: %w", err)
		var answered smithy.APIError
		if errors.As(err, &answered) {
			return err // KMS refused: it made nothing
		}
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		keys, findErr := folderKeys(cctx, w)
		if findErr == nil {
			findErr = retireKeys(cctx, w, p, liveKeys(keys, ""), "step 1 made it just now but lost KMS's answer, so it has no alias")
		}
		if findErr != nil {
			return awsclient.WithHint(fmt.Errorf("%w; looking for a key it may have made also failed: %w", err, findErr),
				"run step 1 again: it finds a key it made for this folder and finishes it")
		}
		return err
	}
	md := out.KeyMetadata
	p.info("created KMS key %s", aws.ToString(md.Arn))
	return aliasKey(ctx, w, p, md)
}

// aliasKey gives the alias to the key md of this workshop folder and makes
// it the workshop's key. When CreateAlias fails, it looks at what the alias
// really is before it says anything: made all the same (only the answer was
// lost), the key is kept; otherwise the key is scheduled for deletion.
func aliasKey(ctx context.Context, w *Workshop, p reporter, md *types.KeyMetadata) error {
	keyARN := aws.ToString(md.Arn)
	// show:create-alias begin
	_, err := w.Clients.KMS.CreateAlias(ctx, &kms.CreateAliasInput{
		AliasName:   aws.String(AliasName),
		TargetKeyId: md.KeyId,
	})
	// show:create-alias end
	if err != nil {
		err = fmt.Errorf("create alias %s: %w", AliasName, err)
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		target, checkErr := describeKey(cctx, w, AliasName)
		switch {
		case checkErr != nil:
			return awsclient.WithHint(fmt.Errorf("%w; checking whether the alias was made also failed: %w", err, checkErr),
				fmt.Sprintf("run step 1 again: it finds KMS key %s and gives it the alias, or schedules its deletion", keyARN))
		case target != nil && aws.ToString(target.KeyId) == aws.ToString(md.KeyId):
			// The alias was made (a lost answer, or a retry of a request
			// that had gone through).
			if ctx.Err() != nil {
				w.useKey(md)
				p.info("alias %s -> %s was made before step 1 stopped; running step 1 again reuses them", AliasName, keyARN)
				return err
			}
		default:
			why := "the alias was not created"
			if target != nil {
				why = fmt.Sprintf("the alias points to another key, %s", aws.ToString(target.Arn))
			}
			out, delErr := w.Clients.KMS.ScheduleKeyDeletion(cctx, &kms.ScheduleKeyDeletionInput{
				KeyId:               md.KeyId,
				PendingWindowInDays: aws.Int32(deletionWindowInDays),
			})
			if delErr != nil {
				return fmt.Errorf("%w; scheduling the deletion of KMS key %s also failed: %w", err, keyARN, delErr)
			}
			p.warn("scheduled KMS key %s for deletion on %s, since %s", keyARN, text.Date(aws.ToTime(out.DeletionDate)), why)
			return err
		}
	}
	p.info("created alias %s -> %s", AliasName, keyARN)
	w.useKey(md)
	p.success(1)
	return nil
}

// useKey makes md the workshop's key; progress made with another key is
// forgotten.
func (w *Workshop) useKey(md *types.KeyMetadata) {
	keyARN := aws.ToString(md.Arn)
	if keyARN != w.State.KeyARN {
		w.State = State{Restore: w.State.Restore}
	}
	w.State.KeyID = aws.ToString(md.KeyId)
	w.State.KeyARN = keyARN
	w.State.KeyDeletionDate = time.Time{}
}

// keyToFinish picks, among the keys of the folder, the one a step 1 that
// stopped before the alias should finish: the workshop's own key if it is
// usable, else the newest usable one; nil if none is.
func keyToFinish(keys []*types.KeyMetadata, keyARN string) *types.KeyMetadata {
	var newest *types.KeyMetadata
	for _, md := range keys {
		if md.KeyState != types.KeyStateEnabled {
			continue
		}
		if aws.ToString(md.Arn) == keyARN {
			return md
		}
		if newest == nil {
			newest = md
		}
	}
	return newest
}

// reuseKey takes over the key the alias points to, if this tool made it for
// this workshop folder.
func reuseKey(ctx context.Context, w *Workshop, p reporter, md *types.KeyMetadata) error {
	keyARN := aws.ToString(md.Arn)
	tags, err := keyTags(ctx, w, aws.ToString(md.KeyId))
	if err != nil {
		return err
	}
	if tags[createdByTagKey] != toolName {
		return awsclient.WithHint(
			fmt.Errorf("%s already exists and points to KMS key %s, which cse-workshop did not create", AliasName, keyARN),
			fmt.Sprintf("the workshop uses only a key it made itself; if that alias is left over and nobody needs it, delete it with `aws kms delete-alias --alias-name %s`, or use another account or region", AliasName))
	}
	folder := tags[folderTagKey]
	if folder != folderTagValue(w.Dir) && keyARN != w.State.KeyARN {
		return awsclient.WithHint(
			fmt.Errorf("%s points to KMS key %s, which cse-workshop made for another workshop folder (%s)", AliasName, keyARN, folder),
			"finish that workshop first with "+Command(w.Clients, w.Profile, folder, "step 6")+", or keep working in that folder")
	}

	switch md.KeyState {
	case types.KeyStateEnabled:
		p.info("%s already points to KMS key %s, which this workshop created: reusing it", AliasName, keyARN)
	case types.KeyStatePendingDeletion:
		if err := restoreKey(ctx, w, p, md); err != nil {
			return err
		}
	default:
		hint := "run step 6 to clean up, then step 1 again"
		if md.KeyState == types.KeyStateDisabled {
			hint = fmt.Sprintf("enable it with %s, or run step 6 to clean up and then step 1 again", w.awsCLI("kms enable-key --key-id "+keyARN))
		}
		return awsclient.WithHint(fmt.Errorf("the workshop's KMS key %s is %s and cannot be used", keyARN, md.KeyState), hint)
	}

	w.useKey(md)
	p.success(1)
	return nil
}

// restoreKey cancels the scheduled deletion of the workshop's own key, when
// the person agrees, and enables it again (a key whose deletion is
// cancelled comes back disabled).
func restoreKey(ctx context.Context, w *Workshop, p reporter, md *types.KeyMetadata) error {
	keyARN := aws.ToString(md.Arn)
	when := ""
	if md.DeletionDate != nil {
		when = " on " + text.Date(*md.DeletionDate)
	}
	question := fmt.Sprintf("The workshop's KMS key %s is scheduled for deletion%s. Cancel the deletion and use it again?", keyARN, when)
	if w.Confirm == nil || !w.Confirm(ctx, question) {
		return awsclient.WithHint(
			fmt.Errorf("the workshop's KMS key %s is scheduled for deletion%s", keyARN, when),
			fmt.Sprintf("run again with --yes to cancel the deletion and reuse the key, or cancel it yourself with %s", w.awsCLI("kms cancel-key-deletion --key-id "+keyARN, "kms enable-key --key-id "+keyARN)))
	}
	if _, err := w.Clients.KMS.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: md.KeyId}); err != nil {
		return fmt.Errorf("cancel deletion of %s: %w", keyARN, err)
	}
	if _, err := w.Clients.KMS.EnableKey(ctx, &kms.EnableKeyInput{KeyId: md.KeyId}); err != nil {
		return fmt.Errorf("enable %s: %w", keyARN, err)
	}
	p.info("cancelled the deletion of KMS key %s and enabled it again: reusing it", keyARN)
	return nil
}
