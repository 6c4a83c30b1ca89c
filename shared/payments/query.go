package payments

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
)

// Transaction answers a merchant's transaction with its action history,
// oldest first: one Query of the transaction's partition. Another
// merchant's transaction is not found, as an unknown one.
func (s *Service) Transaction(ctx context.Context, merchant, id string) (Transaction, error) {
	keyCond := expression.Key(dynamo.AttrPK).Equal(expression.Value(dynamo.Tuple("txn", id)))
	e := dynamo.Build(expression.NewBuilder().WithKeyCondition(keyCond))
	out, err := s.st.DB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.table), KeyConditionExpression: e.KeyCondition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Transaction{}, fmt.Errorf("payments: read transaction %s: %w", id, err)
	}
	var t Transaction
	found := false
	for _, it := range out.Items {
		if dynamo.StringAttr(it[dynamo.AttrSK]) == mainSK {
			if dynamo.StringAttr(it[attrMerchant]) != merchant {
				break
			}
			found = true
			amount, _ := dynamo.IntAttr(it[attrAmount])
			t.Captured, _ = dynamo.IntAttr(it[attrCaptured])
			t.Refunded, _ = dynamo.IntAttr(it[attrRefunded])
			t.Answer = Answer{ID: id, TransactionID: id, Amount: amount, Currency: dynamo.StringAttr(it[attrCurrency]),
				Status: publicStatus(dynamo.StringAttr(it[attrStatus])), Action: dynamo.StringAttr(it[attrAction])}
			t.Reason, t.AliasID = dynamo.StringAttr(it[attrReason]), dynamo.StringAttr(it[attrAlias])
			t.PurchaseID, t.CustomerID = dynamo.StringAttr(it[attrPurchaseID]), dynamo.StringAttr(it[attrCustomerID])
			t.TestMode, t.CreatedAt = dynamo.BoolAttr(it[attrTestMode]), dynamo.StringAttr(it[attrCreatedAt])
			continue
		}
		amount, _ := dynamo.IntAttr(it[attrAmount])
		t.History = append(t.History, Action{Action: dynamo.StringAttr(it[attrAction]), Status: dynamo.StringAttr(it[attrStatus]), Amount: amount,
			AdditionalInfo: dynamo.StringAttr(it[attrMessage]), At: dynamo.StringAttr(it[attrCreatedAt])})
	}
	if !found {
		return Transaction{}, refusal.New(ErrTransactionMissing, "transaction %s not found", id)
	}
	if t.History == nil {
		t.History = []Action{}
	}
	return t, nil
}
