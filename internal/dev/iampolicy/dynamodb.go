package iampolicy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// KeySchema gives a table's partition key attribute from its local name
// ("" when unknown), for dynamodb:LeadingKeys.
type KeySchema func(table string) string

// DynamoDBRequests are the authorization requests IAM evaluates for one
// DynamoDB call: op is the operation (X-Amz-Target's last part), body its
// JSON. A transaction needs its items' own actions (PutItem, UpdateItem,
// DeleteItem, ConditionCheckItem; GetItem for TransactGetItems) on each
// item's table, a batch its action on each table, a Query or Scan of an
// index the action on the index's ARN; the rest their action on the table.
func DynamoDBRequests(op string, body []byte, hashKey KeySchema) ([]Request, error) {
	var in dynamoInput
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, fmt.Errorf("dynamodb %s: request body: %w", op, err)
		}
	}
	if hashKey == nil {
		hashKey = func(string) string { return "" }
	}
	req := func(action string, it dynamoInput) Request {
		res := tableResource(it.TableName)
		if it.IndexName != "" {
			res += "/index/" + it.IndexName
		}
		return Request{Action: "dynamodb:" + action, Resource: res, Context: it.context(action, hashKey(it.TableName))}
	}
	var out []Request
	switch op {
	case "TransactWriteItems", "TransactGetItems":
		kinds := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		for i, item := range in.TransactItems {
			if len(item) != 1 {
				return nil, fmt.Errorf("dynamodb %s: item %d has %d operations", op, i, len(item))
			}
			for kind, it := range item {
				action, ok := kinds[kind]
				if !ok {
					return nil, fmt.Errorf("dynamodb %s: item %d: unknown operation %s", op, i, kind)
				}
				out = append(out, req(action, it))
			}
		}
	case "BatchGetItem", "BatchWriteItem":
		tables := make([]string, 0, len(in.RequestItems))
		for t := range in.RequestItems {
			tables = append(tables, t)
		}
		sort.Strings(tables)
		for _, t := range tables {
			it, err := batchItem(op, t, in.RequestItems[t])
			if err != nil {
				return nil, err
			}
			out = append(out, req(op, it))
		}
	case "ListTables", "DescribeLimits", "DescribeEndpoints":
		out = append(out, Request{Action: "dynamodb:" + op, Resource: "*"})
	case "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction":
		return nil, fmt.Errorf("dynamodb %s: PartiQL is not checked by this evaluator", op)
	default:
		if in.TableName == "" {
			return nil, fmt.Errorf("dynamodb %s: no TableName", op)
		}
		out = append(out, req(op, in))
	}
	return out, nil
}

// dynamoInput is the part of a DynamoDB request that authorization reads
// (also one item of a transaction).
type dynamoInput struct {
	TableName                 string
	IndexName                 string
	Key                       attributes
	Item                      attributes
	ProjectionExpression      string
	AttributesToGet           []string
	UpdateExpression          string
	KeyConditionExpression    string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues attributes
	Select                    string
	ReturnValues              string

	RequestItems  map[string]json.RawMessage
	TransactItems []map[string]dynamoInput
	keys          []attributes // a batch's keys or items
}

func tableResource(table string) string {
	if strings.HasPrefix(table, "arn:") {
		return table // the API takes a table's ARN as its name too
	}
	return TableARN(table)
}

// batchItem reads one table's part of a batch as a single request.
func batchItem(op, table string, raw json.RawMessage) (dynamoInput, error) {
	it := dynamoInput{TableName: table}
	if op == "BatchGetItem" {
		var g struct {
			Keys                     []attributes
			ProjectionExpression     string
			AttributesToGet          []string
			ExpressionAttributeNames map[string]string
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			return it, fmt.Errorf("dynamodb %s %s: %w", op, table, err)
		}
		it.keys, it.ProjectionExpression, it.AttributesToGet, it.ExpressionAttributeNames = g.Keys, g.ProjectionExpression, g.AttributesToGet, g.ExpressionAttributeNames
		return it, nil
	}
	var w []struct {
		PutRequest    *struct{ Item attributes }
		DeleteRequest *struct{ Key attributes }
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return it, fmt.Errorf("dynamodb %s %s: %w", op, table, err)
	}
	for _, r := range w {
		switch {
		case r.PutRequest != nil:
			it.keys = append(it.keys, r.PutRequest.Item)
		case r.DeleteRequest != nil:
			it.keys = append(it.keys, r.DeleteRequest.Key)
		}
	}
	return it, nil
}

// context gives the DynamoDB condition keys of a request:
// dynamodb:Attributes (the top-level attributes it names: key, item,
// projection, update targets), dynamodb:Select (as given, or
// ALL_ATTRIBUTES for a read that projects nothing: it returns every
// attribute), dynamodb:ReturnValues and dynamodb:LeadingKeys (the
// partition key values).
func (it dynamoInput) context(action, hashKey string) map[string][]string {
	ctx := map[string][]string{}
	attrs := map[string]bool{}
	leading := map[string]bool{}
	items := append([]attributes{it.Key, it.Item}, it.keys...)
	for _, m := range items {
		for name, v := range m {
			attrs[name] = true
			if name == hashKey {
				leading[scalar(v)] = true
			}
		}
	}
	names := func(expr string) {
		for _, n := range topLevelNames(expr, it.ExpressionAttributeNames) {
			attrs[n] = true
		}
	}
	names(it.ProjectionExpression)
	for _, a := range it.AttributesToGet {
		attrs[a] = true
	}
	names(updateTargets(it.UpdateExpression))
	if hashKey != "" && it.KeyConditionExpression != "" && it.IndexName == "" {
		for _, v := range equalsValues(it.KeyConditionExpression, hashKey, it.ExpressionAttributeNames) {
			if av, ok := it.ExpressionAttributeValues[v]; ok {
				leading[scalar(av)] = true
			}
		}
	}
	isRead := action == "GetItem" || action == "Query" || action == "Scan" || action == "BatchGetItem"
	projects := it.ProjectionExpression != "" || len(it.AttributesToGet) > 0
	switch {
	case it.Select != "":
		ctx["dynamodb:Select"] = []string{it.Select}
	case isRead && !projects:
		ctx["dynamodb:Select"] = []string{"ALL_ATTRIBUTES"}
	}
	if it.ReturnValues != "" {
		ctx["dynamodb:ReturnValues"] = []string{it.ReturnValues}
	}
	ctx["dynamodb:Attributes"] = sortedKeys(attrs)
	if len(leading) > 0 {
		ctx["dynamodb:LeadingKeys"] = sortedKeys(leading)
	}
	return ctx
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// attributes are attribute values by name, each left as the request's
// JSON: authorization needs the names, and the value of the partition key
// alone (decoding every nested value cost the guard most of its time).
type attributes map[string]json.RawMessage

// scalar is the string form of a key attribute value ({"S": "x"} -> x).
func scalar(raw json.RawMessage) string {
	var v struct{ S, N, B *string }
	if err := json.Unmarshal(raw, &v); err == nil {
		for _, s := range []*string{v.S, v.N, v.B} {
			if s != nil {
				return *s
			}
		}
	}
	return string(raw)
}

var pathHead = regexp.MustCompile(`^\s*([#A-Za-z0-9_:-]+)`)

// topLevelNames gives the top-level attribute of every path of a
// comma-separated expression, #names resolved.
func topLevelNames(expr string, names map[string]string) []string {
	var out []string
	for _, p := range strings.Split(expr, ",") {
		m := pathHead.FindStringSubmatch(p)
		if m == nil {
			continue
		}
		n := strings.SplitN(strings.SplitN(m[1], "[", 2)[0], ".", 2)[0]
		if real, ok := names[n]; ok {
			n = real
		}
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

var updateClause = regexp.MustCompile(`(?i)\b(SET|REMOVE|ADD|DELETE)\b`)

// updateTargets rewrites an update expression as a comma-separated list of
// the paths it writes (the left side of each action).
func updateTargets(expr string) string {
	if expr == "" {
		return ""
	}
	var paths []string
	for _, clause := range updateClause.Split(expr, -1) {
		for _, action := range splitTopLevel(clause) {
			lhs := strings.TrimSpace(action)
			if i := strings.IndexAny(lhs, "= "); i >= 0 {
				lhs = lhs[:i]
			}
			if lhs != "" {
				paths = append(paths, lhs)
			}
		}
	}
	return strings.Join(paths, ",")
}

// splitTopLevel splits at commas outside parentheses (if_not_exists(a, b)).
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

var equality = regexp.MustCompile(`([#A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)`)

// equalsValues gives the :values a key condition compares attr to.
func equalsValues(expr, attr string, names map[string]string) []string {
	var out []string
	for _, m := range equality.FindAllStringSubmatch(expr, -1) {
		n := m[1]
		if real, ok := names[n]; ok {
			n = real
		}
		if n == attr {
			out = append(out, m[2])
		}
	}
	return out
}
