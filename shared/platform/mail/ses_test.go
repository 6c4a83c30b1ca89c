package mail_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	tgmail "github.com/tollgate-dev/tollgate/shared/platform/mail"
)

var domainSeq atomic.Int64

// newSES is a real sesv2 client of the shared moto_server (skipping when
// moto is not installed) and a domain of this test's own, verified.
func newSES(t *testing.T) (*sesv2.Client, string, string) {
	t.Helper()
	url, ok := ddbtest.Moto(t)
	if !ok {
		t.Skip("moto_server is not installed")
	}
	client := sesv2.New(sesv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	domain := fmt.Sprintf("shop%d-%d.example", time.Now().UnixNano(), domainSeq.Add(1))
	if _, err := client.CreateEmailIdentity(context.Background(), &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)}); err != nil {
		t.Fatalf("CreateEmailIdentity: %v", err)
	}
	return client, url, domain
}

// sent is the count of messages moto's SES has sent (GetSendQuota's
// SentLast24Hours, over SES v1's query protocol: the count sesv2 does not
// expose in moto).
func sent(t *testing.T, url string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader("Action=GetSendQuota&Version=2010-12-01"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`<SentLast24Hours>([0-9.]+)</SentLast24Hours>`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("GetSendQuota answered %d: %s", resp.StatusCode, b)
	}
	f, _ := strconv.ParseFloat(string(m[1]), 64)
	return int(f)
}

// SendEmail on moto's SES v2 from a verified identity: one message per
// send, SES's MessageId answered; from an unverified one: MessageRejected,
// a refusal no retry changes.
func TestSESOnMoto(t *testing.T) {
	client, url, domain := newSES(t)
	s := tgmail.SES{Client: client}
	msg := sample()
	msg.From = `"My Store" <receipts@` + domain + `>`
	before := sent(t, url)
	id, err := s.Send(context.Background(), msg)
	if err != nil || id == "" {
		t.Fatalf("Send: %q, %v", id, err)
	}
	if got := sent(t, url); got != before+1 {
		t.Fatalf("moto sent %d messages, want %d", got, before+1)
	}
	msg.From = "receipts@unverified-" + domain
	_, err = s.Send(context.Background(), msg)
	var rejected *types.MessageRejected
	if !errors.Is(err, tgmail.ErrRefused) || !errors.As(err, &rejected) {
		t.Fatalf("Send from an unverified identity: %v, want ErrRefused wrapping MessageRejected", err)
	}
	if got := sent(t, url); got != before+1 {
		t.Fatalf("a refused send was counted sent (%d)", got)
	}
}

// The refusals that stay refusals are dead at once; throttling and
// service errors are retried.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err     error
		refused bool
	}{
		{&types.MessageRejected{Message: aws.String("Email address is not verified")}, true},
		{&types.BadRequestException{Message: aws.String("Missing final '@domain'")}, true},
		{&types.AccountSuspendedException{}, true},
		{&types.SendingPausedException{}, true},
		{&types.MailFromDomainNotVerifiedException{}, true},
		{&types.NotFoundException{}, true},
		{&types.TooManyRequestsException{}, false},
		{&types.LimitExceededException{}, false},
		{&types.InternalServiceErrorException{}, false},
		{errors.New("dial tcp: i/o timeout"), false},
	} {
		if got := errors.Is(tgmail.Classify(tc.err), tgmail.ErrRefused); got != tc.refused {
			t.Errorf("Classify(%T): refused %v, want %v", tc.err, got, tc.refused)
		}
	}
}
