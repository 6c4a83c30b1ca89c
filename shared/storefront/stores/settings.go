package stores

import (
	"context"
	"errors"
	"fmt"
	"net/mail"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Settings are what a store's owner sets of its store (the portal's
// Settings page; a stores file's entry holds the same).
type Settings struct {
	Name                   string
	SupportEmail           string // "": none
	WebhookURL             string // "": no webhooks
	WebhookSignatureHeader string // "": delivery.DefaultSignatureHeader
	PricesIncludeTax       *bool  // nil: by currency (Store.TaxIncluded)
	EmailBuyers            bool
	LowStockThreshold      *int64 // nil: DefaultLowStockThreshold; 0: never low
}

// Settings are the store's settings as read.
func (s Store) Settings() Settings {
	return Settings{Name: s.Name, SupportEmail: s.SupportEmail, WebhookURL: s.WebhookURL, WebhookSignatureHeader: s.WebhookSignatureHeader,
		PricesIncludeTax: s.PricesIncludeTax, EmailBuyers: s.EmailBuyers, LowStockThreshold: s.lowStockThreshold}
}

// InvalidError is a value a store change refuses: which field, and why in
// words a form can show next to it.
type InvalidError struct {
	Field, Reason string
}

func (e *InvalidError) Error() string { return fmt.Sprintf("stores: %s: %s", e.Field, e.Reason) }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// MaxLowStockThreshold bounds a store's low-stock threshold.
const MaxLowStockThreshold = 1_000_000

// validStoreName reports why name cannot name a store or product ("" when
// it can): 1-128 bytes, printable.
func validStoreName(name string) string {
	if !validText(name, 128) {
		return "required: 1 to 128 printable characters, no surrounding spaces"
	}
	return ""
}

// validSupportEmail reports why a store's support address is refused (""
// when it is taken): one plain address, no display name.
func validSupportEmail(addr string) string {
	if a, err := mail.ParseAddress(addr); err != nil || a.Name != "" || a.Address != addr {
		return "want one plain email address (name@example.com)"
	}
	return ""
}

// Check validates s as the Settings page saves it. The webhook URL
// follows delivery's rules (CheckURL: https in prod, no literal private
// address); the dispatcher checks it again, and its dialer checks the
// address it connects to, when it sends.
func (s Settings) Check(prod bool) error {
	if why := validStoreName(s.Name); why != "" {
		return invalid("name", "%s", why)
	}
	if s.SupportEmail != "" {
		if why := validSupportEmail(s.SupportEmail); why != "" {
			return invalid("supportEmail", "%s", why)
		}
	}
	if s.WebhookURL != "" {
		if len(s.WebhookURL) > 2048 {
			return invalid("webhookUrl", "at most 2048 bytes")
		}
		if err := delivery.CheckURL(s.WebhookURL, prod); err != nil {
			return invalid("webhookUrl", "%v", err)
		}
	}
	if s.WebhookSignatureHeader != "" {
		if why := delivery.ValidSignatureHeader(s.WebhookSignatureHeader); why != "" {
			return invalid("webhookSignatureHeader", "%s", why)
		}
	}
	if s.LowStockThreshold != nil && (*s.LowStockThreshold < 0 || *s.LowStockThreshold > MaxLowStockThreshold) {
		return invalid("lowStockThreshold", "want 0 to %d keys (0: never low)", MaxLowStockThreshold)
	}
	return nil
}

// settingsUpdate is the update of a store row that sets s (an unset
// optional setting is removed): the one layout of settings, for a stores
// file's import and the portal alike.
func settingsUpdate(s Settings) expression.UpdateBuilder {
	values := map[string]types.AttributeValue{attrName: dynamo.S(s.Name), attrWebhookURL: dynamo.S(s.WebhookURL),
		attrWebhookSigHeader: dynamo.S(s.WebhookSignatureHeader), attrSupportEmail: dynamo.S(s.SupportEmail), attrEmailBuyers: dynamo.Bool(s.EmailBuyers)}
	u := dynamo.SetAll(values)
	if s.PricesIncludeTax != nil {
		u = u.Set(expression.Name(attrPricesIncludeTax), expression.Value(*s.PricesIncludeTax))
	} else {
		u = u.Remove(expression.Name(attrPricesIncludeTax))
	}
	if s.LowStockThreshold != nil {
		u = u.Set(expression.Name(attrLowStock), expression.Value(*s.LowStockThreshold))
	} else {
		u = u.Remove(expression.Name(attrLowStock))
	}
	return u
}

// UpdateSettings saves store slug's settings (Check(prod) first): one
// transaction of the store row's conditional update (the store exists)
// and audit. A store that does not exist is ErrNoStore.
func (a Admin) UpdateSettings(ctx context.Context, slug string, s Settings, prod bool, audit types.TransactWriteItem) error {
	if err := s.Check(prod); err != nil {
		return err
	}
	err := a.st().Transact(ctx, withAudit([]types.TransactWriteItem{
		dynamo.UpdateOp(a.Table, dynamo.PKSK(storePK(slug), skStore), settingsUpdate(s), dynamo.Cond(dynamo.Exists())),
	}, audit))
	var failed *dynamo.ConditionFailedError
	if errors.As(err, &failed) && failed.Failed(0) {
		return fmt.Errorf("%w: %s", ErrNoStore, slug)
	}
	if err != nil {
		return fmt.Errorf("settings of %s: %w", slug, err)
	}
	return nil
}

// ReadStore reads store slug's row (strongly consistent): found false when
// there is no such store.
func (a Admin) ReadStore(ctx context.Context, slug string) (Store, bool, error) {
	item, err := a.get(ctx, dynamo.PKSK(storePK(slug), skStore))
	if err != nil || item == nil {
		return Store{}, false, err
	}
	return storeFromItem(slug, item), true, nil
}
