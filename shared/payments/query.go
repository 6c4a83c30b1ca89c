package payments

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/shared/refusal"
	"github.com/tollgate-dev/tollgate/shared/store"
)

// Transaction answers a merchant's transaction with its action history,
// oldest first: one Query of the transaction's partition. Another
// merchant's transaction is not found, as an unknown one.
func (s *Service) Transaction(ctx context.Context, merchant, id string) (Transaction, error) {
	keyCond := expression.Key(store.AttrPK).Equal(expression.Value(store.Tuple("txn", id)))
	e := store.Build(expression.NewBuilder().WithKeyCondition(keyCond))
	out, err := s.st.DB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.table), KeyConditionExpression: e.KeyCondition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Transaction{}, fmt.Errorf("payments: read transaction %s: %w", id, err)
	}
	var t Transaction
	found := false
	for _, it := range out.Items {
		if store.StringAttr(it[store.AttrSK]) == mainSK {
			if store.StringAttr(it[attrMerchant]) != merchant {
				break
			}
			found = true
			amount, _ := store.IntAttr(it[attrAmount])
			t.Captured, _ = store.IntAttr(it[attrCaptured])
			t.Refunded, _ = store.IntAttr(it[attrRefunded])
			t.Answer = Answer{ID: id, TransactionID: id, Amount: amount, Currency: store.StringAttr(it[attrCurrency]),
				Status: publicStatus(store.StringAttr(it[attrStatus])), Action: store.StringAttr(it[attrAction])}
			t.Reason, t.AliasID = store.StringAttr(it[attrReason]), store.StringAttr(it[attrAlias])
			t.PurchaseID, t.CustomerID = store.StringAttr(it[attrPurchaseID]), store.StringAttr(it[attrCustomerID])
			t.TestMode, t.CreatedAt = store.BoolAttr(it[attrTestMode]), store.StringAttr(it[attrCreatedAt])
			continue
		}
		amount, _ := store.IntAttr(it[attrAmount])
		t.History = append(t.History, Action{Action: store.StringAttr(it[attrAction]), Status: store.StringAttr(it[attrStatus]), Amount: amount,
			AdditionalInfo: store.StringAttr(it[attrMessage]), At: store.StringAttr(it[attrCreatedAt])})
	}
	if !found {
		return Transaction{}, refusal.New(ErrTransactionMissing, "transaction %s not found", id)
	}
	if t.History == nil {
		t.History = []Action{}
	}
	return t, nil
}
