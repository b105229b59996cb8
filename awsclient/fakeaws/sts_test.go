package fakeaws_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"cse-workshop/awsclient/fakeaws"
)

func TestGetCallerIdentity(t *testing.T) {
	tests := []struct {
		opts        fakeaws.Options
		wantAccount string
	}{
		{fakeaws.Options{}, fakeaws.DefaultAccountID},
		{fakeaws.Options{AccountID: "444455556666"}, "444455556666"},
	}
	for _, tt := range tests {
		c := newClients(t, tt.opts)
		out, err := c.sts.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
		wantARN := "arn:aws:iam::" + tt.wantAccount + ":user/workshop-learner"
		if aws.ToString(out.Account) != tt.wantAccount || aws.ToString(out.Arn) != wantARN || aws.ToString(out.UserId) != fakeaws.DemoUserID {
			t.Errorf("GetCallerIdentity = %s %s %s, want %s %s %s", aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId),
				tt.wantAccount, wantARN, fakeaws.DemoUserID)
		}
	}
}
