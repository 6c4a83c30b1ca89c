package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
)

// SESAPI is the one call of SES v2 the sender makes (*sesv2.Client has it).
type SESAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends raw messages through Amazon SES v2. SendEmail has no
// idempotency key, so a send is one request: the SDK's own retries are
// turned off for it (a retried request whose first try SES accepted
// would send twice); the outbox retries with its backoff instead.
type SES struct {
	Client SESAPI
	// ConfigurationSet ("" none) names the SES configuration set of every
	// send (event publishing, a dedicated IP pool).
	ConfigurationSet string
}

// Send sends m as raw content; the answer is SES's MessageId.
func (s SES) Send(ctx context.Context, m Message) (string, error) {
	raw, err := Build(m)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrRefused, err)
	}
	in := &sesv2.SendEmailInput{Content: &types.EmailContent{Raw: &types.RawMessage{Data: raw}}}
	if s.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.ConfigurationSet)
	}
	out, err := s.Client.SendEmail(ctx, in, func(o *sesv2.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		return "", Classify(err)
	}
	return aws.ToString(out.MessageId), nil
}

// Classify wraps the SES refusals that another attempt cannot change in
// ErrRefused: the message was rejected (MessageRejected, a bad request,
// such as an address SES cannot parse), the sender is not allowed (not
// verified, the account suspended or its sending paused), or the
// recipient is on the account's suppression list. Throttling and service
// errors stay retryable.
func Classify(err error) error {
	var (
		rejected  *types.MessageRejected
		bad       *types.BadRequestException
		suspended *types.AccountSuspendedException
		paused    *types.SendingPausedException
		notFrom   *types.MailFromDomainNotVerifiedException
		notFound  *types.NotFoundException
	)
	switch {
	case errors.As(err, &rejected), errors.As(err, &bad), errors.As(err, &suspended), errors.As(err, &paused),
		errors.As(err, &notFrom), errors.As(err, &notFound):
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	var api smithy.APIError
	if errors.As(err, &api) && strings.Contains(strings.ToLower(api.ErrorMessage()), "suppress") {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return fmt.Errorf("mail: SES SendEmail: %w", err)
}
