package embeddeddb_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BenchmarkTransactWriteItems is one transaction shaped like an
// authorization (a new record, two grants) through the SDK and the engine
// in process.
func BenchmarkTransactWriteItems(b *testing.B) {
	_, db := newDB(b, 4096)
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		player := fmt.Sprintf("player-%d", i%100)
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String("records"), Item: map[string]types.AttributeValue{"pk": str(fmt.Sprintf("tx-%d", i)), "player": str(player), "items": str("gem:1,coin:2")}, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			{Update: &types.Update{TableName: aws.String("items"), Key: key(player, "item#gem"), UpdateExpression: aws.String("SET #p = :p ADD #q :q"), ExpressionAttributeNames: map[string]string{"#p": "productId", "#q": "quantity"}, ExpressionAttributeValues: map[string]types.AttributeValue{":p": str("gem"), ":q": num(1)}}},
			{Update: &types.Update{TableName: aws.String("items"), Key: key(player, "item#coin"), UpdateExpression: aws.String("SET #p = :p ADD #q :q"), ExpressionAttributeNames: map[string]string{"#p": "productId", "#q": "quantity"}, ExpressionAttributeValues: map[string]types.AttributeValue{":p": str("coin"), ":q": num(2)}}},
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
}
