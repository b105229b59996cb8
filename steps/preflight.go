package steps

import (
	"context"
	"fmt"
	"strings"

	"cse-workshop/internal/text"
)

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
