package steps

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"cse-workshop/awsclient"
)

// Step 6: schedule the deletion of the workshop's keys, delete the alias
// and the files the workshop made.

// runCleanup is step 6. Besides the workshop's key, it schedules the
// deletion of every other key step 1 made for this workshop folder and left
// live (an interrupted step 1, a lost answer).
func runCleanup(ctx context.Context, w *Workshop, r Reporter) error {
	p := reporter{w, r}
	keyARN := w.State.KeyARN
	md, err := describeKey(ctx, w, keyARN)
	if err != nil {
		return err
	}
	var deleted []string // key IDs whose alias goes too
	if md == nil {
		p.warn("KMS key %s no longer exists: nothing to delete", keyARN)
	} else {
		tags, err := keyTags(ctx, w, keyARN)
		if err != nil {
			return err
		}
		if tags[createdByTagKey] != toolName {
			return awsclient.WithHint(
				fmt.Errorf("refusing to delete KMS key %s: cse-workshop did not create it", keyARN),
				"the workshop deletes only a key it made itself (tagged created-by=cse-workshop); run step 1 to make one")
		}
		if err := scheduleDeletion(ctx, w, p, md); err != nil {
			return err
		}
		deleted = append(deleted, aws.ToString(md.KeyId))
	}
	keys, err := folderKeys(ctx, w)
	if err != nil {
		return err
	}
	others := liveKeys(keys, w.State.KeyID)
	if err := retireKeys(ctx, w, p, others, "step 1 made it for this workshop folder earlier"); err != nil {
		return err
	}
	for _, o := range others {
		deleted = append(deleted, aws.ToString(o.KeyId))
	}
	if len(deleted) > 0 {
		if err := deleteAlias(ctx, w, p, deleted); err != nil {
			return err
		}
	}
	keepHeaderForExperiments(w)
	// show:delete-files begin
	for _, name := range []string{EncryptedFile, CycledFile} {
		removed, err := removeIfExists(w.path(name))
		if err != nil {
			return fmt.Errorf("delete %s: %w", name, err)
		}
		if removed {
			p.info("deleted %s", name)
		}
	}
	// show:delete-files end
	w.State.Done = map[int]time.Time{}
	w.State.GenerateDataKeyAt = time.Time{}
	p.success(6)
	return nil
}

// deleteAlias deletes the workshop's alias if it still points to one of
// the keys keyIDs.
func deleteAlias(ctx context.Context, w *Workshop, p reporter, keyIDs []string) error {
	target, err := describeKey(ctx, w, AliasName)
	switch {
	case err != nil:
		return err
	case target == nil:
		p.info("alias %s was already deleted", AliasName)
		return nil
	case !slices.Contains(keyIDs, aws.ToString(target.KeyId)):
		p.warn("alias %s now points to another key (%s): left alone", AliasName, aws.ToString(target.Arn))
		return nil
	}
	// show:delete-alias begin
	if _, err := w.Clients.KMS.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(AliasName)}); err != nil {
		return fmt.Errorf("delete alias %s: %w", AliasName, err)
	}
	// show:delete-alias end
	p.info("deleted alias %s", AliasName)
	return nil
}
