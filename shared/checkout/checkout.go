// Package checkout: TEMP stand-in for helper-core's package (the brief's
// interface) so helper-web compiles before the merge. Never ship it.
package checkout

import (
	"context"
	"errors"
	"time"

	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/psp"
	"github.com/tollgate-dev/tollgate/shared/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/stores"
)

var errTemp = errors.New("checkout: TEMP stand-in")

// Errors of the brief.
var (
	ErrNoStore        = errors.New("checkout: no such store")
	ErrNoSession      = errors.New("checkout: no such session")
	ErrSessionExpired = errors.New("checkout: session expired")
	ErrInvalid        = errors.New("checkout: invalid")
	ErrNoOrder        = errors.New("checkout: no such order")
	ErrDeclined       = errors.New("checkout: payment declined")
)

type Service struct{}

func Open(ctx context.Context, d deps.Deps) (*Service, error) { return &Service{}, nil }

type SessionRequest struct {
	Store, APIKey                                        string
	Cart                                                 map[string]int64
	Currency, Locale                                     string
	ExternalReference, ReturnURLSuccess, ReturnURLCancel string
	ExpiresAt                                            time.Time
}
type Session struct {
	Token, CheckoutURL string
	ExpiresAt          time.Time
	Rate               *ratelimit.Result
	RateErr            error
}

func (s *Service) CreateSession(ctx context.Context, r SessionRequest) (Session, error) {
	return Session{}, errTemp
}

type Line struct {
	SKU      string
	Quantity int64
}
type CartRef struct {
	Store    string
	Token    string
	Lines    []Line
	Currency string
	Source   string
}
type Buyer struct{ Email, Country, Subdivision string }
type QuoteLine struct {
	SKU, Name                      string
	Quantity, UnitMinor, LineMinor int64
}
type Quote struct {
	StoreSlug, StoreName, Currency, Locale string
	Lines                                  []QuoteLine
	SubtotalMinor, TaxMinor, TotalMinor    int64
	TaxRate                                float64
	TaxLabel                               string
	NeedsSubdivision                       bool
	Problems                               []string
	ExpiresAt                              time.Time
	ReturnURLCancel                        string
}

func (s *Service) Quote(ctx context.Context, c CartRef, b Buyer) (Quote, error) {
	return Quote{}, errTemp
}

type Payment struct {
	OrderID                      string
	PSP                          psp.Type
	Quote                        Quote
	ClientSecret, PublishableKey string
}

func (s *Service) StartPayment(ctx context.Context, c CartRef, b Buyer) (Payment, error) {
	return Payment{}, errTemp
}
func (s *Service) SandboxPay(ctx context.Context, store, orderID, card string) error { return errTemp }

type OrderView struct {
	OrderID, Store, StoreName, Status, Currency, Locale, CustomerEmail, ExternalReference string
	TotalMinor                                                                            int64
	Items                                                                                 []stores.OrderItem
	ReturnURLSuccess                                                                      string
}

func (s *Service) Order(ctx context.Context, store, orderID string) (OrderView, error) {
	return OrderView{}, errTemp
}

type MarketItem struct {
	Store, StoreName, SKU, Name string
	Prices                      map[string]int64
}

func (s *Service) Market(ctx context.Context) ([]MarketItem, error) { return nil, errTemp }
func (s *Service) ReceiveStripe(ctx context.Context, payload []byte, signature string) (string, error) {
	return "", errTemp
}
