package mail

import (
	"context"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// Settings of the senders (docs/email.md).
const (
	// EnvFrom is the emails' sender, an SES-verified identity (the
	// MailFrom parameter); unset in AWS: no sender, emails undeliverable.
	EnvFrom = "MAIL_FROM"
	// EnvConfigurationSet names the SES configuration set of every send
	// ("" none).
	EnvConfigurationSet = "MAIL_CONFIGURATION_SET"
	// EnvDir, set only by make run, keeps every email as an .eml file
	// there instead of sending it through SES.
	EnvDir = "MAIL_DIR"
)

// FromEnv is the one choice of a sender from the environment: with
// MAIL_DIR, a Dir there (the sender address MAIL_FROM, else localFrom);
// else, with MAIL_FROM, SES; with neither, no sender (nil, ""): the
// caller's emails are undeliverable until MailFrom is set. getenv reads a
// setting (deps.Deps.String, os.Getenv); logger and now serve Dir.
func FromEnv(ctx context.Context, getenv func(string) string, logger *slog.Logger, now func() time.Time, localFrom string) (Sender, string, error) {
	from := getenv(EnvFrom)
	if from != "" {
		if _, err := netmail.ParseAddress(from); err != nil {
			return nil, "", fmt.Errorf("%s %q is not an address: %w", EnvFrom, from, err)
		}
	}
	if dir := getenv(EnvDir); dir != "" {
		if from == "" {
			from = localFrom
		}
		return Dir{Path: dir, Logger: logger, Now: now}, from, nil
	}
	if from == "" {
		return nil, "", nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("mail: AWS config: %w", err)
	}
	return SES{Client: sesv2.NewFromConfig(cfg), ConfigurationSet: getenv(EnvConfigurationSet)}, from, nil
}
