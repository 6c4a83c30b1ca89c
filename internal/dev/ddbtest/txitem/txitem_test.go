package txitem

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func b(v bool) types.AttributeValue   { return &types.AttributeValueMemberBOOL{Value: v} }

func update(expr, cond string, names map[string]string, values map[string]types.AttributeValue) types.TransactWriteItem {
	u := &types.Update{
		TableName: aws.String("T"), Key: map[string]types.AttributeValue{"pk": s("p"), "sk": s("k")},
		UpdateExpression: aws.String(expr), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}
	if cond != "" {
		u.ConditionExpression = aws.String(cond)
	}
	return types.TransactWriteItem{Update: u}
}

func TestRead(t *testing.T) {
	names := map[string]string{"#0": "qty", "#1": "prices", "#2": "USD"}
	tests := []struct {
		name    string
		item    types.TransactWriteItem
		want    Text
		wantErr string
	}{
		{"update with a nested condition",
			update("ADD #0 :0\n", "(#1.#2 = :1)", names, map[string]types.AttributeValue{":0": n("2"), ":1": n("100")}),
			Text{Op: "Update", Table: "T", Key: `pk="p" sk="k"`, Update: "ADD qty 2", Condition: "(prices.USD = 100)"}, ""},
		{"name used but not defined",
			update("ADD #0 :0, #9 :0", "", map[string]string{"#0": "qty"}, map[string]types.AttributeValue{":0": n("2")}),
			Text{}, "name #9 used but not defined"},
		{"value defined but unused",
			update("ADD #0 :0", "", map[string]string{"#0": "qty"}, map[string]types.AttributeValue{":0": n("2"), ":1": n("3")}),
			Text{}, "value :1 defined but unused"},
		{"update without expression",
			update("", "", nil, nil), Text{}, "without an update expression"},
		{"put", types.TransactWriteItem{Put: &types.Put{TableName: aws.String("T"), Item: map[string]types.AttributeValue{"pk": s("p"), "x": n("1")},
			ConditionExpression: aws.String("attribute_not_exists (#0)"), ExpressionAttributeNames: map[string]string{"#0": "pk"},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
			Text{Op: "Put", Table: "T", Key: `pk="p"`, Condition: "attribute_not_exists (pk)", ReturnsOld: true}, ""},
		{"neither", types.TransactWriteItem{}, Text{}, "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(tt.item)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Read error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Text != tt.want {
				t.Errorf("Read = %+v\nwant %+v", got.Text, tt.want)
			}
		})
	}
}

func TestHolds(t *testing.T) {
	names := map[string]string{"#0": "qty", "#1": "prices", "#2": "USD", "#3": "on"}
	values := map[string]types.AttributeValue{":0": n("3"), ":1": n("100"), ":2": b(true), ":3": s("x")}
	tests := []struct {
		name, cond string
		row        map[string]types.AttributeValue
		want       bool
		wantErr    bool
	}{
		{"no condition", "", nil, true, false},
		{"less or equal", "#0 <= :0", map[string]types.AttributeValue{"qty": n("3")}, true, false},
		{"greater", "#0 <= :0", map[string]types.AttributeValue{"qty": n("3.5")}, false, false},
		{"numbers in another spelling", "#0 = :0", map[string]types.AttributeValue{"qty": n("0.3E1")}, true, false},
		{"missing attribute compares false", "#0 <= :0", nil, false, false},
		{"missing attribute: <> is false too", "#0 <> :0", nil, false, false},
		{"not exists", "attribute_not_exists (#0)", nil, true, false},
		{"exists", "attribute_exists (#0)", map[string]types.AttributeValue{"qty": n("1")}, true, false},
		{"nested path", "(#1.#2 = :1)", map[string]types.AttributeValue{"prices": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"USD": n("100")}}}, true, false},
		{"nested path missing", "(#1.#2 = :1)", map[string]types.AttributeValue{"prices": &types.AttributeValueMemberM{}}, false, false},
		{"boolean", "#3 = :2", map[string]types.AttributeValue{"on": b(true)}, true, false},
		{"type mismatch", "#3 = :2", map[string]types.AttributeValue{"on": s("true")}, false, false},
		{"or, and, not", "(attribute_not_exists (#0)) OR ((#0 <= :0) AND (NOT (#3 = :2)))", map[string]types.AttributeValue{"qty": n("1"), "on": b(false)}, true, false},
		{"and binds tighter", "#3 = :2 OR #0 = :0 AND #0 = :1", map[string]types.AttributeValue{"qty": n("3"), "on": b(true)}, true, false},
		{"unsupported function", "begins_with (#3, :3)", nil, false, true},
		{"trailing garbage", "#0 = :0 )", map[string]types.AttributeValue{"qty": n("3")}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := Item{cond: tt.cond, names: names, values: values}
			got, err := it.Holds(tt.row)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("Holds = %v, %v; want %v (error: %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
