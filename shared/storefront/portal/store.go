package portal

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// item is a row as DynamoDB returns it.
type item = map[string]types.AttributeValue

func (s *Service) table() string { return s.st.Tables.Portal }

// get reads one row, strongly consistent (nil: none).
func (s *Service) get(ctx context.Context, key dynamo.Key) (item, error) {
	out, err := s.st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table()), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("portal: read: %w", err)
	}
	return out.Item, nil
}

// queryAll reads every row of partition pk whose sort key begins with
// prefix ("": every row), strongly consistent, in sort-key order.
func (s *Service) queryAll(ctx context.Context, pk, prefix string) ([]item, error) {
	cond := expression.Key(dynamo.AttrPK).Equal(expression.Value(pk))
	if prefix != "" { // DynamoDB refuses an empty begins_with
		cond = cond.And(expression.Key(dynamo.AttrSK).BeginsWith(prefix))
	}
	e := dynamo.Build(expression.NewBuilder().WithKeyCondition(cond))
	p := dynamodb.NewQueryPaginator(s.st.DB, &dynamodb.QueryInput{
		TableName: aws.String(s.table()), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: e.KeyCondition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	})
	var items []item
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("portal: query: %w", err)
		}
		items = append(items, out.Items...)
	}
	return items, nil
}

// transactChunks runs items as transactions of at most 100 items (DynamoDB's
// limit): the first chunk is the one whose conditions matter; later ones
// hold only unconditional audit rows.
func (s *Service) transactChunks(ctx context.Context, items []types.TransactWriteItem) error {
	const maxItems = 100
	for len(items) > 0 {
		n := min(len(items), maxItems)
		if err := s.st.Transact(ctx, items[:n]); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}
