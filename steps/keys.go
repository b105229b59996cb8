package steps

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"cse-workshop/internal/text"
)

// The KMS keys of a workshop folder: how the tool marks its own keys,
// finds them again and retires them. Steps 1 and 6 share these.

// The tags that mark a KMS key as this tool's. The first is the original
// workshop's; the others let step 1 and step 6 recognise their own key and
// leave every other key alone.
const (
	workshopTagKey   = "crypto-aws-encryption"
	workshopTagValue = "builder-aws-session"
	createdByTagKey  = "created-by"
	toolName         = "cse-workshop"
	folderTagKey     = "cse-workshop-folder"
)

// deletionWindowInDays is the shortest wait KMS allows before it deletes a key.
const deletionWindowInDays = 7

// cleanupTimeout bounds the AWS calls that undo a half-made step after its
// context was cancelled.
const cleanupTimeout = 30 * time.Second

// leftOver is why step 1 and step 6 delete a key of the workshop folder
// other than the workshop's key.
const leftOver = "step 1 made it for this workshop folder earlier, and it does not have the alias " + AliasName

// cleanupContext bounds the AWS calls that undo or check a half-made step 1
// after ctx was cancelled: they must still reach KMS.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

// folderKeys returns the keys cse-workshop made for this workshop folder,
// whatever their state, newest first. A key whose tags or metadata may not
// be read is not one of them (the workshop's keys have the default key
// policy), and a key deleted meanwhile is skipped.
func folderKeys(ctx context.Context, w *Workshop) ([]*types.KeyMetadata, error) {
	var keys []*types.KeyMetadata
	in := &kms.ListKeysInput{}
	for {
		out, err := w.Clients.KMS.ListKeys(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list KMS keys: %w", err)
		}
		for _, k := range out.Keys {
			keyID := aws.ToString(k.KeyId)
			tags, err := keyTags(ctx, w, keyID)
			if unreadable(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if tags[createdByTagKey] != toolName || tags[folderTagKey] != folderTagValue(w.Dir) {
				continue
			}
			md, err := describeKey(ctx, w, keyID)
			if unreadable(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if md != nil {
				keys = append(keys, md)
			}
		}
		if !out.Truncated || out.NextMarker == nil {
			break
		}
		in.Marker = out.NextMarker
	}
	slices.SortStableFunc(keys, func(a, b *types.KeyMetadata) int {
		return aws.ToTime(b.CreationDate).Compare(aws.ToTime(a.CreationDate))
	})
	return keys, nil
}

// unreadable reports whether err says a key cannot be read by us or no
// longer exists.
func unreadable(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "AccessDeniedException", "NotFoundException":
		return true
	}
	return false
}

// liveKeys returns the keys not pending deletion, except the one whose key
// ID is except.
func liveKeys(keys []*types.KeyMetadata, except string) []*types.KeyMetadata {
	var live []*types.KeyMetadata
	for _, md := range keys {
		if md.KeyState != types.KeyStatePendingDeletion && aws.ToString(md.KeyId) != except {
			live = append(live, md)
		}
	}
	return live
}

// retireKeys schedules the deletion of keys of the workshop folder that the
// workshop does not use, saying why for each.
func retireKeys(ctx context.Context, w *Workshop, p reporter, keys []*types.KeyMetadata, why string) error {
	for _, md := range keys {
		keyARN := aws.ToString(md.Arn)
		out, err := w.Clients.KMS.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{
			KeyId:               md.KeyId,
			PendingWindowInDays: aws.Int32(deletionWindowInDays),
		})
		if err != nil {
			return fmt.Errorf("schedule deletion of %s: %w", keyARN, err)
		}
		p.warn("scheduled KMS key %s for deletion on %s: %s", keyARN, text.Date(aws.ToTime(out.DeletionDate)), why)
	}
	return nil
}

// keyTags returns the tags of a key as a map.
func keyTags(ctx context.Context, w *Workshop, keyID string) (map[string]string, error) {
	tags := map[string]string{}
	in := &kms.ListResourceTagsInput{KeyId: aws.String(keyID)}
	for {
		out, err := w.Clients.KMS.ListResourceTags(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read the tags of %s: %w", keyID, err)
		}
		for _, t := range out.Tags {
			tags[aws.ToString(t.TagKey)] = aws.ToString(t.TagValue)
		}
		if !out.Truncated || out.NextMarker == nil {
			return tags, nil
		}
		in.Marker = out.NextMarker
	}
}

// tagUnsafe matches what AWS does not allow in a tag value. Its Unicode
// classes are slow to compile: it is compiled on first use, not by every
// command at start-up.
var tagUnsafe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^\p{L}\p{Z}\p{N}_.:/=+\-@]`) })

// maxTagValueLength is KMS's limit on a tag value, in characters.
const maxTagValueLength = 256

// folderTagValue is the folder tag of a workshop folder: its absolute path
// with the characters AWS refuses replaced, and at most its last 256
// characters.
func folderTagValue(dir string) string {
	v := []rune(tagUnsafe().ReplaceAllString(dir, "_"))
	if len(v) > maxTagValueLength {
		v = v[len(v)-maxTagValueLength:]
	}
	return string(v)
}

// describeKey returns a key's metadata, or nil if it does not exist.
func describeKey(ctx context.Context, w *Workshop, keyID string) (*types.KeyMetadata, error) {
	out, err := w.Clients.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	var notFound *types.NotFoundException
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe KMS key %s: %w", keyID, err)
	}
	return out.KeyMetadata, nil
}

// scheduleDeletion schedules the key's deletion unless it already is.
func scheduleDeletion(ctx context.Context, w *Workshop, p reporter, md *types.KeyMetadata) error {
	keyARN := aws.ToString(md.Arn)
	if md.KeyState == types.KeyStatePendingDeletion {
		when := aws.ToTime(md.DeletionDate)
		w.State.KeyDeletionDate = when
		p.line(LevelInfo, &DeletionDetail{KeyARN: keyARN, DeletionDate: when},
			"KMS key %s was already scheduled for deletion, on %s", keyARN, text.Date(when))
		return nil
	}
	// show:schedule-key-deletion begin
	out, err := w.Clients.KMS.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{
		KeyId:               md.KeyId,
		PendingWindowInDays: aws.Int32(deletionWindowInDays),
	})
	// show:schedule-key-deletion end
	if err != nil {
		return fmt.Errorf("schedule deletion of %s: %w", keyARN, err)
	}
	when := aws.ToTime(out.DeletionDate)
	w.State.KeyDeletionDate = when
	p.line(LevelInfo, &DeletionDetail{KeyARN: keyARN, DeletionDate: when},
		"scheduled KMS key %s for deletion on %s (%d days from now; until then the deletion can be cancelled)", keyARN, text.Date(when), deletionWindowInDays)
	return nil
}
