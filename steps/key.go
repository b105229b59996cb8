package steps

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"cse-workshop/awsclient"
	"cse-workshop/internal/text"
)

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

// runCreateKey is step 1. It may be run again after it stopped at any
// point, even killed: it finds the keys it made for this workshop folder by
// their tags, gives the alias to one of them (or to a new key), and
// schedules the deletion of the others, so that no key of the folder stays
// live without the alias.
func runCreateKey(ctx context.Context, w *Workshop, r Reporter) error {
	p := reporter{w, r}
	var target *types.KeyMetadata // the alias's key
	existing, err := w.Clients.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(AliasName)})
	var notFound *types.NotFoundException
	switch {
	case errors.As(err, &notFound):
	case err != nil:
		return fmt.Errorf("look up %s: %w", AliasName, err)
	default:
		target = existing.KeyMetadata
	}
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

// leftOver is why step 1 and step 6 delete a key of the workshop folder
// other than the workshop's key.
const leftOver = "step 1 made it for this workshop folder earlier, and it does not have the alias " + AliasName

// createKey makes a new key and gives it the alias. When KMS's answer to
// CreateKey is lost (Ctrl-C, a timeout), the key may exist all the same:
// the keys of the folder without the alias are then scheduled for deletion,
// so that an interrupted step 1 leaves nothing behind that costs money.
func createKey(ctx context.Context, w *Workshop, p reporter) error {
	p.info("creating a symmetric KMS key (%q)", KeyDescription)
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
	_, err := w.Clients.KMS.CreateAlias(ctx, &kms.CreateAliasInput{
		AliasName:   aws.String(AliasName),
		TargetKeyId: md.KeyId,
	})
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

// cleanupContext bounds the AWS calls that undo or check a half-made step 1
// after ctx was cancelled: they must still reach KMS.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

// useKey makes md the workshop's key; progress made with another key is
// forgotten.
func (w *Workshop) useKey(md *types.KeyMetadata) {
	keyARN := aws.ToString(md.Arn)
	if keyARN != w.State.KeyARN {
		w.State = State{}
	}
	w.State.KeyID = aws.ToString(md.KeyId)
	w.State.KeyARN = keyARN
	w.State.KeyDeletionDate = time.Time{}
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
			fmt.Sprintf("finish that workshop first with `cse-workshop step 6 --dir %s%s`, or keep working in that folder", shellQuote(folder), w.flagsForCommands()))
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

// tagUnsafe matches what AWS does not allow in a tag value.
var tagUnsafe = regexp.MustCompile(`[^\p{L}\p{Z}\p{N}_.:/=+\-@]`)

// maxTagValueLength is KMS's limit on a tag value, in characters.
const maxTagValueLength = 256

// folderTagValue is the folder tag of a workshop folder: its absolute path
// with the characters AWS refuses replaced, and at most its last 256
// characters.
func folderTagValue(dir string) string {
	v := []rune(tagUnsafe.ReplaceAllString(dir, "_"))
	if len(v) > maxTagValueLength {
		v = v[len(v)-maxTagValueLength:]
	}
	return string(v)
}

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
	for _, name := range []string{EncryptedFile, CycledFile} {
		removed, err := removeIfExists(w.path(name))
		if err != nil {
			return fmt.Errorf("delete %s: %w", name, err)
		}
		if removed {
			p.info("deleted %s", name)
		}
	}
	w.State.Done = map[int]time.Time{}
	w.State.GenerateDataKeyAt = time.Time{}
	p.success(6)
	return nil
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
	out, err := w.Clients.KMS.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{
		KeyId:               md.KeyId,
		PendingWindowInDays: aws.Int32(deletionWindowInDays),
	})
	if err != nil {
		return fmt.Errorf("schedule deletion of %s: %w", keyARN, err)
	}
	when := aws.ToTime(out.DeletionDate)
	w.State.KeyDeletionDate = when
	p.line(LevelInfo, &DeletionDetail{KeyARN: keyARN, DeletionDate: when},
		"scheduled KMS key %s for deletion on %s (%d days from now; until then the deletion can be cancelled)", keyARN, text.Date(when), deletionWindowInDays)
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
	if _, err := w.Clients.KMS.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(AliasName)}); err != nil {
		return fmt.Errorf("delete alias %s: %w", AliasName, err)
	}
	p.info("deleted alias %s", AliasName)
	return nil
}

// flagsForCommands returns the flags a printed cse-workshop command needs
// to reach the same backend: " --aws --region R [--profile P]" for real
// AWS, "" for the demo.
func (w *Workshop) flagsForCommands() string {
	if !w.Live() {
		return ""
	}
	return " --aws" + w.awsCLIFlags()
}

// awsCLIFlags returns the flags a printed aws CLI command needs:
// " --region R [--profile P]".
func (w *Workshop) awsCLIFlags() string {
	if !w.Live() {
		return ""
	}
	s := " --region " + w.Clients.Region
	if w.Profile != "" {
		s += " --profile " + shellQuote(w.Profile)
	}
	return s
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// LiveKeyReminder returns, while a KMS key of this workshop is live on real
// AWS (created and not scheduled for deletion), what it costs and the
// commands that clean it up; "" otherwise.
func (w *Workshop) LiveKeyReminder() string {
	if !w.Live() || w.State.KeyARN == "" || !w.State.KeyDeletionDate.IsZero() {
		return ""
	}
	return fmt.Sprintf(`The workshop's KMS key %s is still live in your AWS account; it is billed monthly until it is scheduled for deletion.
Clean up with:
  cse-workshop step 6 --dir %s%s
or with the AWS CLI:
  aws kms schedule-key-deletion --key-id %s --pending-window-in-days %d%s
  aws kms delete-alias --alias-name %s%s`,
		w.State.KeyARN,
		shellQuote(w.Dir), w.flagsForCommands(),
		w.State.KeyARN, deletionWindowInDays, w.awsCLIFlags(),
		AliasName, w.awsCLIFlags())
}

// Plan is what the confirmation before a live run shows.
type Plan struct {
	Account   string
	CallerARN string
	Region    string
	Creates   []string // what step 1 will create
	Reuses    string   // the key ARN this workshop already has, if any
	CostNote  string
}

// Preflight asks AWS who the workshop will act as and says what it will
// create and what that costs; it changes nothing.
func Preflight(ctx context.Context, w *Workshop) (Plan, error) {
	id, err := w.Clients.Identity(ctx)
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{
		Account:   id.Account,
		CallerARN: id.ARN,
		Region:    w.Clients.Region,
		Creates: []string{
			fmt.Sprintf("one symmetric KMS key (%q)", KeyDescription),
			"one alias, " + AliasName,
		},
		CostNote: fmt.Sprintf("A KMS key is billed monthly, prorated by the hour, until it is scheduled for deletion; "+
			"the deletion then waits at least %d days, unbilled, and step 6 schedules it. "+
			"The workshop's few requests fall within the KMS free tier, and CloudTrail event history is free.", deletionWindowInDays),
	}
	if w.State.KeyARN != "" && w.State.KeyDeletionDate.IsZero() {
		plan.Reuses = w.State.KeyARN
	}
	return plan, nil
}

// String renders the plan as the command line prints it.
func (p Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "AWS account: %s\n", p.Account)
	fmt.Fprintf(&b, "caller:      %s\n", p.CallerARN)
	fmt.Fprintf(&b, "region:      %s\n", p.Region)
	if p.Reuses != "" {
		fmt.Fprintf(&b, "The workshop reuses its KMS key %s if it still exists; otherwise it creates:\n", p.Reuses)
	} else {
		b.WriteString("The workshop creates:\n")
	}
	for _, c := range p.Creates {
		fmt.Fprintf(&b, "  - %s\n", c)
	}
	b.WriteString(text.Wrap(p.CostNote, planWidth))
	return b.String()
}

// planWidth is the width Plan.String wraps its text to.
const planWidth = 78
