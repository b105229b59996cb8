package steps

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"cse-workshop/assets"
	"cse-workshop/awsclient"
	"cse-workshop/crypto/esdk"
	"cse-workshop/internal/text"
)

// The experiment that encrypts a second file and finds its GenerateDataKey
// record in CloudTrail beside step 2's.

// secondFileText is the second file the experiment encrypts, in memory.
const secondFileText = "A second file, encrypted by the experiment of step 5: it gets its own data key.\n"

func secondFileExperiment() Experiment {
	return Experiment{
		ID:     "second-file",
		Step:   5,
		Title:  "Encrypt a second file, find two GenerateDataKey records",
		Expect: "CloudTrail shows two GenerateDataKey records: one data key per file",
		Explanation: "The AWS Encryption SDK asks KMS for a new data key for each message it encrypts, so every file has its own data key " +
			"and KMS logs one GenerateDataKey call per file in CloudTrail, with the encryption context in plain text and no key material. " +
			"Each record's aws-crypto-public-key differs, as each message has its own signing key. " +
			"The trail shows every use of the KMS key: who asked for a data key, when, and for what.",
		Source:  assets.Source{Title: "Logging AWS KMS API calls with AWS CloudTrail", URL: "https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html"},
		missing: missingBefore(5),
		run:     runSecondFile,
	}
}

// runSecondFile encrypts a second file in memory, waits as step 5 does,
// then looks in CloudTrail for its record and step 2's.
func runSecondFile(ctx context.Context, w *Workshop, p reporter, _ string) (*ExperimentDetail, error) {
	firstAt := w.State.GenerateDataKeyAt
	if firstAt.IsZero() {
		return nil, awsclient.WithHint(fmt.Errorf("the workshop has no record of when step 2 called GenerateDataKey"), "run step 2 again")
	}
	firstKey := fileSigningKey(w.path(EncryptedFile))

	p.info("encrypting a second file (%d bytes, in memory: nothing is written) under %s with encryption context %s",
		len(secondFileText), w.State.KeyARN, text.Context(EncryptionContext()))
	secondAt := w.Clock.Now()
	var secondKey string
	_, err := esdk.Encrypt(ctx, w.Clients.KMS, io.Discard, bytes.NewReader([]byte(secondFileText)), esdk.EncryptOptions{
		KeyID:             w.State.KeyARN,
		EncryptionContext: EncryptionContext(),
		Suite:             esdk.DefaultSuite,
		OnDataKey: func(info esdk.DataKeyInfo) {
			secondKey = info.Header.EncryptionContext[PublicKeyContextKey]
			p.info("KMS GenerateDataKey returned a new data key for it (32 bytes, in memory only)")
		},
	})
	if err != nil {
		return nil, unexpected(w, "encrypt the second file", err)
	}

	t := w.auditTimings()
	if err := waitForDelivery(ctx, w, p, secondAt, t.wait); err != nil {
		return nil, err
	}
	interval := t.pollInterval
	giveUpAt := w.Clock.Now().Add(t.giveUpAfter)
	for attempt := 1; ; attempt++ {
		first, second, err := lookUpBoth(ctx, w, firstAt, firstKey, secondAt, secondKey)
		switch {
		case err == nil && first != nil && second != nil:
			for i, r := range []*RecordDetail{first, second} {
				p.info("record %d: GenerateDataKey at %s, event %s, %s %s",
					i+1, text.Date(r.EventTime), r.EventID, PublicKeyContextKey, shortPublicKey(r.EncryptionContext)[PublicKeyContextKey])
			}
			return &ExperimentDetail{
				Answer: "two GenerateDataKey records",
				Result: fmt.Sprintf("CloudTrail holds two GenerateDataKey records, one per file (%s and %s), each for its own data key",
					text.Date(first.EventTime), text.Date(second.EventTime)),
				AsPredicted: true,
			}, nil
		case err == nil:
			p.info("attempt %d: %s", attempt, foundSoFar(first, second))
		case throttled(err):
			interval = min(2*interval, t.maxPollInterval)
			p.warn("attempt %d: CloudTrail is throttling requests; next look in %s", attempt, text.Duration(interval))
		default:
			return nil, unexpected(w, "look up CloudTrail events", err)
		}
		if !w.Clock.Now().Before(giveUpAt) {
			if second != nil {
				return &ExperimentDetail{
					Answer: "one GenerateDataKey record",
					Result: "CloudTrail holds the second file's GenerateDataKey record, but step 2's is no longer in its event history (90 days)",
				}, nil
			}
			return nil, awsclient.WithHint(
				fmt.Errorf("the second file's GenerateDataKey record did not appear in CloudTrail event history within %s (%d attempts)", text.Duration(t.giveUpAfter), attempt),
				"event history can lag by several minutes; try the experiment again later")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-w.CheckNow:
		case <-w.Clock.After(interval):
		}
	}
}

// foundSoFar says which of the two records a look found.
func foundSoFar(first, second *RecordDetail) string {
	switch {
	case first != nil:
		return "step 2's record is there, the second file's not delivered yet"
	case second != nil:
		return "the second file's record is there, step 2's not found yet"
	}
	return "not delivered yet"
}

// fileSigningKey is the aws-crypto-public-key of the message in path, ""
// when it cannot be read: it tells its GenerateDataKey record apart.
func fileSigningKey(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h, err := esdk.ParseHeader(f)
	if err != nil {
		return ""
	}
	return h.EncryptionContext[PublicKeyContextKey]
}

// lookUpBoth looks once in the event history for the GenerateDataKey
// records of the workshop's key and context made around firstAt and
// secondAt, telling them apart by their signing keys when known, else by
// their times. Either is nil when not found yet.
func lookUpBoth(ctx context.Context, w *Workshop, firstAt time.Time, firstKey string, secondAt time.Time, secondKey string) (first, second *RecordDetail, err error) {
	records, err := lookUpRecords(ctx, w, firstAt.Add(-eventTimeWindow), secondAt.Add(eventTimeWindow))
	if err != nil {
		return nil, nil, err
	}
	pick := func(at time.Time, signingKey string, not *RecordDetail) *RecordDetail {
		var best *RecordDetail
		for _, r := range records {
			if r == not || (not != nil && r.EventID == not.EventID) {
				continue
			}
			if signingKey != "" {
				if r.EncryptionContext[PublicKeyContextKey] == signingKey {
					return r
				}
				continue
			}
			if best == nil || distance(r.EventTime, at) < distance(best.EventTime, at) {
				best = r
			}
		}
		return best
	}
	second = pick(secondAt, secondKey, nil)
	first = pick(firstAt, firstKey, second)
	return first, second, nil
}
