package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/psp"
	"github.com/tollgate-dev/tollgate/shared/refusal"
	"github.com/tollgate-dev/tollgate/shared/store"
)

// Alias states.
const (
	aliasCreated   = "CREATED"   // made, not yet exchanged for a PSP alias
	aliasExchanged = "EXCHANGED" // usable
	aliasDeleted   = "DELETED"   // soft-deleted
)

// Payment methods an alias may hold.
var PaymentMethods = []string{"CC", "SEPA", "PAY_PAL", "GOOGLE_PAY", "APPLE_PAY", "KLARNA"}

// Alias attributes.
const (
	attrPSPType       = "pspType"
	attrTestMode      = "testMode"
	attrState         = "state"
	attrPSPAlias      = "pspAlias"
	attrPaymentMethod = "paymentMethod"
	attrExtra         = "extra"
	attrUpdatedAt     = "updatedAt"
	attrFingerprint   = "fingerprint"
	attrAnswer        = "answer"
)

func aliasKey(id string) store.Key { return store.PKSK(store.Tuple("alias", id), mainSK) }

func idemKey(merchant, scope, key string) store.Key {
	return store.PKSK(store.Tuple("idem", merchant, scope, key), mainSK)
}

// NewAlias asks for an alias.
type NewAlias struct {
	Merchant      string
	PSP           psp.Type
	TestMode      bool
	IdempotentKey string
	UserAgent     string
}

// AliasCreated is the answer to NewAlias: the alias and what the client
// SDK needs to tokenise a payment method with the PSP.
type AliasCreated struct {
	AliasID string            `json:"aliasId"`
	PSP     map[string]string `json:"psp"`
}

// CreateAlias makes an alias, once per Idempotent-Key: the same key with
// the same PSP, mode and User-Agent answers the same alias; with anything
// else ErrIdempotency. One TransactWriteItems.
func (s *Service) CreateAlias(ctx context.Context, req NewAlias) (AliasCreated, error) {
	adapter, creds, err := s.adapter(ctx, req.Merchant, req.PSP, req.TestMode)
	if err != nil {
		return AliasCreated{}, err
	}
	answer := func(id string) AliasCreated {
		cfg := map[string]string{"type": string(req.PSP)}
		for k, v := range adapter.ClientConfig(creds) {
			cfg[k] = v
		}
		return AliasCreated{AliasID: id, PSP: cfg}
	}
	fp := store.Tuple("alias", string(req.PSP), strconv.FormatBool(req.TestMode), req.UserAgent)
	id, err := newID("al")
	if err != nil {
		return AliasCreated{}, err
	}
	now := s.now()
	idem := map[string]types.AttributeValue{attrFingerprint: store.S(fp), attrAnswer: store.S(id), attrCreatedAt: store.Time(now)}
	for k, v := range idemKey(req.Merchant, "alias", req.IdempotentKey) {
		idem[k] = v
	}
	alias := map[string]types.AttributeValue{
		attrMerchant: store.S(req.Merchant), attrPSPType: store.S(string(req.PSP)), attrTestMode: store.Bool(req.TestMode),
		attrState: store.S(aliasCreated), attrCreatedAt: store.Time(now), attrUpdatedAt: store.Time(now),
	}
	for k, v := range aliasKey(id) {
		alias[k] = v
	}
	err = s.st.Transact(ctx, []types.TransactWriteItem{store.PutNewOp(s.table, idem), store.PutNewOp(s.table, alias)})
	var failed *store.ConditionFailedError
	switch {
	case err == nil:
		return answer(id), nil
	case errors.As(err, &failed) && failed.Failed(0):
		old := failed.Items[0]
		if old == nil {
			if old, err = s.item(ctx, idemKey(req.Merchant, "alias", req.IdempotentKey)); err != nil {
				return AliasCreated{}, err
			}
		}
		if store.StringAttr(old[attrFingerprint]) != fp {
			return AliasCreated{}, refusal.New(ErrIdempotency, "Keys for idempotent requests can only be used with the same parameters they were first used with")
		}
		return answer(store.StringAttr(old[attrAnswer])), nil
	}
	return AliasCreated{}, fmt.Errorf("payments: create alias: %w", err)
}

// Exchange completes an alias with the PSP's alias of the payment method
// the client SDK tokenised.
type Exchange struct {
	Merchant      string
	AliasID       string
	TestMode      bool
	PSPAlias      string
	PaymentMethod string
	Extra         json.RawMessage // the request's extra object, kept as sent
}

// AliasState is an alias as the exchange answers it.
type AliasState struct {
	AliasID       string `json:"aliasId"`
	PaymentMethod string `json:"paymentMethod"`
	PSPType       string `json:"pspType"`
	Status        string `json:"status"`
}

// ExchangeAlias stores the PSP alias of aliasID (again, if the client
// tokenises another payment method). One conditional UpdateItem; a refusal
// is explained from the item the failed condition returns.
func (s *Service) ExchangeAlias(ctx context.Context, ex Exchange) (AliasState, error) {
	upd := store.SetAll(map[string]types.AttributeValue{
		attrPSPAlias: store.S(ex.PSPAlias), attrPaymentMethod: store.S(ex.PaymentMethod), attrExtra: store.S(string(ex.Extra)),
		attrState: store.S(aliasExchanged), attrUpdatedAt: store.Time(s.now()),
	})
	cond := store.Exists().And(expression.Name(attrMerchant).Equal(expression.Value(ex.Merchant))).
		And(expression.Name(attrState).NotEqual(expression.Value(aliasDeleted))).
		And(expression.Name(attrTestMode).Equal(expression.Value(ex.TestMode)))
	updated, old, err := s.update(ctx, aliasKey(ex.AliasID), upd, cond)
	switch {
	case err != nil:
		return AliasState{}, err
	case updated == nil:
		return AliasState{}, aliasRefusal(old, ex.AliasID, ex.Merchant, ex.TestMode)
	}
	return AliasState{AliasID: ex.AliasID, PaymentMethod: ex.PaymentMethod, PSPType: store.StringAttr(updated[attrPSPType]), Status: aliasExchanged}, nil
}

// aliasRefusal explains why alias item old (nil: absent) cannot be used by
// merchant in mode test.
func aliasRefusal(old map[string]types.AttributeValue, id, merchant string, test bool) error {
	switch {
	case len(old) == 0 || store.StringAttr(old[attrState]) == aliasDeleted:
		return refusal.New(ErrAliasNotFound, "alias %s not found", id)
	case store.StringAttr(old[attrMerchant]) != merchant:
		return refusal.New(ErrAliasOtherMerchant, "alias %s belongs to another merchant", id)
	case store.BoolAttr(old[attrTestMode]) != test:
		return refusal.New(ErrTestModeMismatch, "alias %s was made with PSP-Test-Mode %t", id, store.BoolAttr(old[attrTestMode]))
	case store.StringAttr(old[attrState]) != aliasExchanged:
		return refusal.New(ErrAliasIncomplete, "alias %s has not been exchanged for a PSP alias", id)
	}
	return nil
}

// DeleteAlias soft-deletes an alias (it can no longer be charged), then
// asks the PSP to forget the payment method, best effort.
func (s *Service) DeleteAlias(ctx context.Context, merchant, id string, test bool) error {
	upd := store.SetAll(map[string]types.AttributeValue{attrState: store.S(aliasDeleted), attrUpdatedAt: store.Time(s.now())})
	cond := store.Exists().And(expression.Name(attrMerchant).Equal(expression.Value(merchant))).
		And(expression.Name(attrTestMode).Equal(expression.Value(test))).
		And(expression.Name(attrState).NotEqual(expression.Value(aliasDeleted)))
	it, old, err := s.update(ctx, aliasKey(id), upd, cond)
	if err != nil {
		return err
	}
	if it == nil {
		if r := aliasRefusal(old, id, merchant, test); r != nil && !errors.Is(r, ErrAliasIncomplete) {
			return r
		}
		return refusal.New(ErrAliasNotFound, "alias %s not found", id)
	}
	if store.StringAttr(it[attrPSPAlias]) == "" {
		return nil
	}
	t := psp.Type(store.StringAttr(it[attrPSPType]))
	if a, c, err := s.adapter(ctx, merchant, t, test); err == nil {
		if err := a.DeleteAlias(ctx, c, store.StringAttr(it[attrPSPAlias])); err != nil {
			s.log.WarnContext(ctx, "PSP alias not deleted at the PSP; it can no longer be charged here", "alias", id, "psp", t, "error", err)
		}
	}
	return nil
}

// PutExchangedAlias stores an exchanged alias under a chosen id, unless it
// exists: the demo data of a local run (the demo merchant's SANDBOX card).
func (s *Service) PutExchangedAlias(ctx context.Context, merchant, id string, t psp.Type, test bool, pspAlias, method string) error {
	now := s.now()
	alias := map[string]types.AttributeValue{
		attrMerchant: store.S(merchant), attrPSPType: store.S(string(t)), attrTestMode: store.Bool(test), attrState: store.S(aliasExchanged),
		attrPSPAlias: store.S(pspAlias), attrPaymentMethod: store.S(method), attrExtra: store.S("{}"), attrCreatedAt: store.Time(now), attrUpdatedAt: store.Time(now),
	}
	for k, v := range aliasKey(id) {
		alias[k] = v
	}
	err := s.st.Transact(ctx, []types.TransactWriteItem{store.PutNewOp(s.table, alias)})
	var failed *store.ConditionFailedError
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("payments: put alias %s: %w", id, err)
	}
	return nil
}
