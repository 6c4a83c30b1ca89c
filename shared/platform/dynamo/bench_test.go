package dynamo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// BenchmarkApplyOnceSDK is the CPU the aws-sdk-go-v2 client spends on one
// ApplyOnce (a TransactWriteItems: serialize, sign, send, deserialize) with
// the network taken out (ddbtest.Canned answers in-process): the share of a
// handler's CPU that is the SDK's. effects=10 is the shape of a 5-item
// register (a reservation and a per-player count per product).
func BenchmarkApplyOnceSDK(b *testing.B) {
	canned := ddbtest.NewCanned()
	canned.Cut() // nothing is forwarded: the endpoint is never dialled
	db, err := dynamo.NewClient(context.Background(), dynamo.ClientOptions{Endpoint: "http://127.0.0.1:9", HTTPClient: canned})
	if err != nil {
		b.Fatal(err)
	}
	s := dynamo.Store{DB: db, Tables: dynamo.Tables{Players: "PlayersTable", Transactions: "TransactionsTable", Catalog: "CatalogTable"}}
	for _, n := range []int{0, 2, 10} {
		rec := dynamo.Record{
			Key: "purchase#txn-0001", Fingerprint: "0123456789abcdef0123456789abcdef",
			Response:  []byte(`{"statuses":[{"productId":"gem_pack_small","status":"PURCHASE_REGISTRATION_STATUS_SUCCESS_REGISTERED"}]}`),
			CreatedAt: time.Unix(1795262400, 0),
			Attributes: map[string]types.AttributeValue{
				"kind":     &types.AttributeValueMemberS{Value: "purchase"},
				"state":    &types.AttributeValueMemberS{Value: "REGISTERED"},
				"playerId": &types.AttributeValueMemberS{Value: "player_id_123"},
			},
		}
		effects := make([]types.TransactWriteItem, 0, n)
		for i := range n {
			effects = append(effects, types.TransactWriteItem{Update: &types.Update{
				TableName:                 aws.String("CatalogTable"),
				Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("product_", i)}},
				UpdateExpression:          aws.String("SET #a = #a - :q, #r = #r + :q"),
				ConditionExpression:       aws.String("#a >= :q AND #active = :t"),
				ExpressionAttributeNames:  map[string]string{"#a": "available", "#r": "reserved", "#active": "active"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":q": &types.AttributeValueMemberN{Value: "1"}, ":t": &types.AttributeValueMemberBOOL{Value: true}},
			}})
		}
		b.Run(fmt.Sprintf("effects=%d", n), func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if outcome, _, err := s.ApplyOnce(ctx, rec, effects); err != nil || outcome != dynamo.Applied {
					b.Fatal(outcome, err)
				}
			}
		})
	}
}
