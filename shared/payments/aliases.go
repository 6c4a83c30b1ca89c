package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
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

func aliasKey(id string) dynamo.Key { return dynamo.PKSK(dynamo.Tuple("alias", id), mainSK) }

func idemKey(merchant, scope, key string) dynamo.Key {
	return dynamo.PKSK(dynamo.Tuple("idem", merchant, scope, key), mainSK)
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
	fp := dynamo.Tuple("alias", string(req.PSP), strconv.FormatBool(req.TestMode), req.UserAgent)
	id, err := newID("al")
	if err != nil {
		return AliasCreated{}, err
	}
	now := s.now()
	idem := map[string]types.AttributeValue{attrFingerprint: dynamo.S(fp), attrAnswer: dynamo.S(id), attrCreatedAt: dynamo.Time(now)}
	for k, v := range idemKey(req.Merchant, "alias", req.IdempotentKey) {
		idem[k] = v
	}
	alias := map[string]types.AttributeValue{
		attrMerchant: dynamo.S(req.Merchant), attrPSPType: dynamo.S(string(req.PSP)), attrTestMode: dynamo.Bool(req.TestMode),
		attrState: dynamo.S(aliasCreated), attrCreatedAt: dynamo.Time(now), attrUpdatedAt: dynamo.Time(now),
	}
	for k, v := range aliasKey(id) {
		alias[k] = v
	}
	err = s.st.Transact(ctx, []types.TransactWriteItem{dynamo.PutNewOp(s.table, idem), dynamo.PutNewOp(s.table, alias)})
	var failed *dynamo.ConditionFailedError
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
		if dynamo.StringAttr(old[attrFingerprint]) != fp {
			return AliasCreated{}, refusal.New(ErrIdempotency, "Keys for idempotent requests can only be used with the same parameters they were first used with")
		}
		return answer(dynamo.StringAttr(old[attrAnswer])), nil
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
	upd := dynamo.SetAll(map[string]types.AttributeValue{
		attrPSPAlias: dynamo.S(ex.PSPAlias), attrPaymentMethod: dynamo.S(ex.PaymentMethod), attrExtra: dynamo.S(string(ex.Extra)),
		attrState: dynamo.S(aliasExchanged), attrUpdatedAt: dynamo.Time(s.now()),
	})
	cond := dynamo.Exists().And(expression.Name(attrMerchant).Equal(expression.Value(ex.Merchant))).
		And(expression.Name(attrState).NotEqual(expression.Value(aliasDeleted))).
		And(expression.Name(attrTestMode).Equal(expression.Value(ex.TestMode)))
	updated, old, err := s.update(ctx, aliasKey(ex.AliasID), upd, cond)
	switch {
	case err != nil:
		return AliasState{}, err
	case updated == nil:
		return AliasState{}, aliasRefusal(old, ex.AliasID, ex.Merchant, ex.TestMode)
	}
	return AliasState{AliasID: ex.AliasID, PaymentMethod: ex.PaymentMethod, PSPType: dynamo.StringAttr(updated[attrPSPType]), Status: aliasExchanged}, nil
}

// aliasRefusal explains why alias item old (nil: absent) cannot be used by
// merchant in mode test.
func aliasRefusal(old map[string]types.AttributeValue, id, merchant string, test bool) error {
	switch {
	case len(old) == 0 || dynamo.StringAttr(old[attrState]) == aliasDeleted:
		return refusal.New(ErrAliasNotFound, "alias %s not found", id)
	case dynamo.StringAttr(old[attrMerchant]) != merchant:
		return refusal.New(ErrAliasOtherMerchant, "alias %s belongs to another merchant", id)
	case dynamo.BoolAttr(old[attrTestMode]) != test:
		return refusal.New(ErrTestModeMismatch, "alias %s was made with PSP-Test-Mode %t", id, dynamo.BoolAttr(old[attrTestMode]))
	case dynamo.StringAttr(old[attrState]) != aliasExchanged:
		return refusal.New(ErrAliasIncomplete, "alias %s has not been exchanged for a PSP alias", id)
	}
	return nil
}

// DeleteAlias soft-deletes an alias (it can no longer be charged), then
// asks the PSP to forget the payment method, best effort.
func (s *Service) DeleteAlias(ctx context.Context, merchant, id string, test bool) error {
	upd := dynamo.SetAll(map[string]types.AttributeValue{attrState: dynamo.S(aliasDeleted), attrUpdatedAt: dynamo.Time(s.now())})
	cond := dynamo.Exists().And(expression.Name(attrMerchant).Equal(expression.Value(merchant))).
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
	if dynamo.StringAttr(it[attrPSPAlias]) == "" {
		return nil
	}
	t := psp.Type(dynamo.StringAttr(it[attrPSPType]))
	if a, c, err := s.adapter(ctx, merchant, t, test); err == nil {
		if err := a.DeleteAlias(ctx, c, dynamo.StringAttr(it[attrPSPAlias])); err != nil {
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
		attrMerchant: dynamo.S(merchant), attrPSPType: dynamo.S(string(t)), attrTestMode: dynamo.Bool(test), attrState: dynamo.S(aliasExchanged),
		attrPSPAlias: dynamo.S(pspAlias), attrPaymentMethod: dynamo.S(method), attrExtra: dynamo.S("{}"), attrCreatedAt: dynamo.Time(now), attrUpdatedAt: dynamo.Time(now),
	}
	for k, v := range aliasKey(id) {
		alias[k] = v
	}
	err := s.st.Transact(ctx, []types.TransactWriteItem{dynamo.PutNewOp(s.table, alias)})
	var failed *dynamo.ConditionFailedError
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("payments: put alias %s: %w", id, err)
	}
	return nil
}
