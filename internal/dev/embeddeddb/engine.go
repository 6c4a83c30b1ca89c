// Package embeddeddb is the DynamoDB of the local runner and the tests:
// minidyn (github.com/truora/minidyn) in process, with the cost of a call
// bounded by the partition it touches instead of the whole table.
//
// minidyn v0.8.2 keeps a table as one sorted list of keys: a new key sorts
// it again, a Query walks all of it, and TransactWriteItems deep-copies
// every table it touches for its rollback, so every call gets slower as
// data grows. Engine keeps each partition (one value of a table's hash key)
// as a minidyn table of its own and lets minidyn run every request on it
// (validation, conditions, update expressions, projections, errors). What a
// partition cannot see is added here, using minidyn's public API only:
//
//   - TransactWriteItems runs under the engine's lock, each item as a
//     one-item minidyn transaction on its partition; when one is cancelled
//     the others still run (DynamoDB reports a reason per item) and every
//     applied item is then restored from the value it had before: an undo
//     log of the touched items instead of a copy of the tables.
//   - A global secondary index is partitioned too, by the value of its own
//     hash key: each partition is a minidyn table (with the table's
//     indexes) holding only the items having that index's keys with that
//     value (indexes are sparse), kept in step with every write. A Query of
//     an index then costs the items of its partition, not every indexed
//     item of the table (minidyn sorts them all for each index Query, and
//     sorts its key list again on each new key). Index partitions are hot
//     or cold as the table's are.
//   - Scan walks the partitions in key order, paged by LastEvaluatedKey.
//   - REMOVE of a top-level attribute, which minidyn v0.8.2 ignores, is
//     applied after minidyn's update.
//
// A minidyn table costs some 30 heap objects before its first item, so only
// the partitions used last (HotPartitions) are kept as minidyn tables; the
// others are kept as their items' JSON lines (the DATA_DIR format), which
// the garbage collector does not walk, and become minidyn tables again when
// a call needs them. The heap the collector scans, and so its cost per
// request, does not grow with the data.
package embeddeddb

import (
	"bytes"
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/truora/minidyn/interpreter/language"
	miniserver "github.com/truora/minidyn/server"
)

type (
	av   = miniserver.AttributeValue
	item = map[string]*av
)

// Engine is an in-memory DynamoDB. Its methods take minidyn's wire types
// (what ServeHTTP decodes) and are safe for concurrent use.
type Engine struct {
	mu sync.Mutex
	// hot lists the partitions kept as minidyn tables, the most recently
	// used first; beyond maxHot the last ones are encoded (cold).
	hot    *list.List
	maxHot int
	// schema holds every table, empty: table-level calls go to it, and so
	// do calls on a table that does not exist (for minidyn's error).
	schema  *miniserver.Client
	tables  map[string]*table
	failure error
	// version counts the writes, so a persister saves only after a change.
	version uint64
}

// HotPartitions is how many partitions an engine keeps as minidyn tables
// by default (some 3 KB each).
const HotPartitions = 4096

// New returns an engine without tables.
func New() *Engine {
	return &Engine{schema: miniserver.NewClient(), tables: map[string]*table{}, hot: list.New(), maxHot: HotPartitions}
}

// SetHotPartitions sets how many partitions stay minidyn tables (at least
// 1); tests make it small to keep partitions moving in and out.
func (e *Engine) SetHotPartitions(n int) {
	e.mu.Lock()
	defer e.unlock()
	e.maxHot = max(n, 1)
}

// unlock encodes the partitions beyond maxHot (between calls, never while
// one uses them) and releases the lock.
func (e *Engine) unlock() {
	for e.hot.Len() > e.maxHot {
		p := e.hot.Remove(e.hot.Back()).(*part)
		p.elem = nil
		if err := p.cool(context.Background()); err != nil {
			// Kept as a minidyn table: it still answers.
			p.elem = e.hot.PushFront(p)
			break
		}
	}
	e.mu.Unlock()
}

type table struct {
	name   string
	create miniserver.CreateTableInput
	hash   string   // hash key attribute
	key    []string // hash and (if any) range key attributes
	e      *Engine
	parts  map[string]*part // the hot partitions, by partKey of the hash key value
	cold   *coldStore       // the others
	// scratch is an empty partition that is never written: reads of a
	// partition that does not exist, and requests without a usable hash
	// key, go there so that minidyn validates and answers them.
	scratch *part
	// dirty lists the partitions written since their last encoding.
	dirty map[string]*part
	// loading and loaded are the partition being loaded and its lines.
	loading string
	loaded  []byte
	// indexes are the global secondary indexes, by name: each a table of
	// its own (same schema) whose hash is the index's hash key, holding
	// the items with the index's keys (nil without indexes).
	indexes map[string]*table
	// For an index's table: the index's key attributes, and the partition
	// (partKey) each item is in, by primary key (encodeKey).
	gsiKey []string
	in     map[string]string
}

// part is a hot partition: the items of one hash key value in a minidyn
// client holding one table. (A cold one is only its encoding, in
// table.cold.)
type part struct {
	*miniserver.Client
	t   *table
	key string
	// enc is the items' encoding (JSON lines), current unless dirty.
	enc   []byte
	dirty bool
	elem  *list.Element // in Engine.hot (nil for the scratch and index tables)
}

// cool encodes a hot partition, keeps the encoding in the table's cold
// store and lets the minidyn table go.
func (p *part) cool(ctx context.Context) error {
	if err := p.encode(ctx); err != nil {
		return err
	}
	p.t.cold.put(p.key, p.enc)
	delete(p.t.parts, p.key)
	return nil
}

// encode brings p.enc up to date.
func (p *part) encode(ctx context.Context) error {
	if !p.dirty {
		return nil
	}
	b, err := p.t.encodePartition(ctx, p.Client)
	if err != nil {
		return err
	}
	p.enc, p.dirty = b, false
	delete(p.t.dirty, p.key)
	return nil
}

// warm makes p the most recently used partition.
func (p *part) warm() {
	if p.elem != nil {
		p.t.e.hot.MoveToFront(p.elem)
		return
	}
	p.elem = p.t.e.hot.PushFront(p)
}

// thaw makes the cold partition k a minidyn table again (hot).
func (t *table) thaw(ctx context.Context, k string, enc []byte) (*part, error) {
	c, err := t.hydrate(ctx, enc)
	if err != nil {
		return nil, err
	}
	t.cold.remove(k)
	p := &part{Client: c, t: t, key: k, enc: enc}
	t.parts[k] = p
	p.warm()
	return p, nil
}

// hydrate makes a minidyn table of the encoded items.
func (t *table) hydrate(ctx context.Context, enc []byte) (*miniserver.Client, error) {
	c, err := t.newClient(ctx)
	if err != nil {
		return nil, err
	}
	for len(enc) > 0 {
		i := bytes.IndexByte(enc, '\n')
		if i < 0 {
			i = len(enc)
		}
		var l line
		if err := json.Unmarshal(enc[:i], &l); err != nil {
			return nil, fmt.Errorf("decode an item of %s: %w", t.name, err)
		}
		if _, err := c.PutItem(ctx, &miniserver.PutItemInput{TableName: aws.String(t.name), Item: l.Item}); err != nil {
			return nil, fmt.Errorf("restore an item of %s: %w", t.name, err)
		}
		enc = enc[min(i+1, len(enc)):]
	}
	return c, nil
}

// reader returns a client holding partition k's items without making it
// hot: a cold partition is read from a minidyn table made for the call (a
// Scan).
func (t *table) reader(ctx context.Context, k string) (*miniserver.Client, error) {
	if p := t.parts[k]; p != nil {
		return p.Client, nil
	}
	enc, _ := t.cold.get(k)
	return t.hydrate(ctx, enc)
}

// errEmulated is what every item call answers while EmulateFailure is on:
// minidyn's emulated internal server error.
var errEmulated = &ddbtypes.InternalServerError{Message: aws.String("emulated error")}

// EmulateFailure makes every item call fail with an internal server error
// (500) until it is called with miniserver.FailureConditionNone, as
// minidyn's server does; tests use it to inject failures.
func (e *Engine) EmulateFailure(c miniserver.FailureCondition) {
	e.mu.Lock()
	defer e.unlock()
	e.failure = nil
	if c != miniserver.FailureConditionNone {
		e.failure = errEmulated
	}
}

// Version counts the writes applied so far.
func (e *Engine) Version() uint64 {
	e.mu.Lock()
	defer e.unlock()
	return e.version
}

// CreateTable creates a table.
func (e *Engine) CreateTable(ctx context.Context, in *miniserver.CreateTableInput) (*miniserver.CreateTableOutput, error) {
	e.mu.Lock()
	defer e.unlock()
	return e.createTable(ctx, in)
}

func (e *Engine) createTable(ctx context.Context, in *miniserver.CreateTableInput) (*miniserver.CreateTableOutput, error) {
	out, err := e.schema.CreateTable(ctx, in)
	if err != nil {
		return nil, err
	}
	t := &table{
		e: e, name: aws.ToString(in.TableName), create: *in,
		parts: map[string]*part{}, cold: newColdStore(), dirty: map[string]*part{},
	}
	t.key = keyAttrs(in.KeySchema)
	t.hash = t.key[0]
	if t.scratch, err = t.newPartition(ctx, ""); err != nil {
		return nil, err
	}
	for _, g := range in.GlobalSecondaryIndexes {
		ix := &table{e: e, name: t.name, create: t.create, key: t.key, parts: map[string]*part{}, cold: newColdStore(),
			dirty: map[string]*part{}, gsiKey: keyAttrs(g.KeySchema), in: map[string]string{}}
		ix.hash = ix.gsiKey[0]
		if ix.scratch, err = ix.newPartition(ctx, ""); err != nil {
			return nil, err
		}
		if t.indexes == nil {
			t.indexes = map[string]*table{}
		}
		t.indexes[aws.ToString(g.IndexName)] = ix
	}
	e.tables[t.name] = t
	e.version++
	return out, nil
}

// keyAttrs lists a key schema's attributes, hash first.
func keyAttrs(ks []ddbtypes.KeySchemaElement) []string {
	out := make([]string, 0, 2)
	for _, k := range ks {
		if k.KeyType == ddbtypes.KeyTypeHash {
			out = append([]string{aws.ToString(k.AttributeName)}, out...)
		} else {
			out = append(out, aws.ToString(k.AttributeName))
		}
	}
	if len(out) == 0 {
		out = append(out, "")
	}
	return out
}

func (t *table) newPartition(ctx context.Context, key string) (*part, error) {
	c, err := t.newClient(ctx)
	if err != nil {
		return nil, err
	}
	return &part{Client: c, t: t, key: key}, nil
}

// newClient returns a minidyn client holding the table, empty.
func (t *table) newClient(ctx context.Context) (*miniserver.Client, error) {
	c := miniserver.NewClient()
	in := t.create
	if _, err := c.CreateTable(ctx, &in); err != nil {
		return nil, err
	}
	return c, nil
}

// DescribeTable describes a table (without item counts).
func (e *Engine) DescribeTable(ctx context.Context, in *miniserver.DescribeTableInput) (*miniserver.DescribeTableOutput, error) {
	e.mu.Lock()
	defer e.unlock()
	return e.schema.DescribeTable(ctx, in)
}

// DeleteTable deletes a table and its items.
func (e *Engine) DeleteTable(ctx context.Context, in *miniserver.DeleteTableInput) (*miniserver.DeleteTableOutput, error) {
	e.mu.Lock()
	defer e.unlock()
	out, err := e.schema.DeleteTable(ctx, in)
	if err == nil {
		if t := e.tables[aws.ToString(in.TableName)]; t != nil {
			for _, tt := range append([]*table{t}, t.indexList()...) {
				for _, p := range tt.parts {
					if p.elem != nil {
						e.hot.Remove(p.elem)
					}
				}
			}
		}
		delete(e.tables, aws.ToString(in.TableName))
		e.version++
	}
	return out, err
}

// partKey names the partition of a hash key value: its type and its value
// (a number in lowest terms, so 1 and 1.0 are one partition). ok is false
// for a missing or non-scalar value.
func partKey(v *av) (string, bool) {
	switch {
	case v == nil:
		return "", false
	case v.S != nil:
		return "S" + *v.S, true
	case v.N != nil:
		if r, ok := new(big.Rat).SetString(*v.N); ok {
			return "N" + r.RatString(), true
		}
		return "N" + *v.N, true
	case v.B != nil:
		return "B" + string(v.B), true
	}
	return "", false
}

// encodeKey names an item by its primary key attributes.
func (t *table) encodeKey(it item) string {
	var b strings.Builder
	for _, a := range t.key {
		k, _ := partKey(it[a])
		b.WriteString(k)
		b.WriteByte(0)
	}
	return b.String()
}

// keyOf returns the primary key attributes of it.
func (t *table) keyOf(it item) item {
	k := make(item, len(t.key))
	for _, a := range t.key {
		if v, ok := it[a]; ok {
			k[a] = v
		}
	}
	return k
}

// partition returns the partition of key (an item or a key), creating it
// when create is set; otherwise a missing partition is the scratch one.
func (t *table) partition(ctx context.Context, key item, create bool) (*part, error) {
	pk, ok := partKey(key[t.hash])
	if !ok {
		return t.scratch, nil
	}
	return t.partitionOf(ctx, pk, create)
}

// partitionOf is partition pk (a partKey) of t: hot again if it was cold;
// a missing one created when create is set, otherwise the scratch one.
func (t *table) partitionOf(ctx context.Context, pk string, create bool) (*part, error) {
	if p := t.parts[pk]; p != nil {
		p.warm()
		return p, nil
	}
	if enc, ok := t.cold.get(pk); ok {
		return t.thaw(ctx, pk, enc)
	}
	if !create {
		return t.scratch, nil
	}
	p, err := t.newPartition(ctx, pk)
	if err != nil {
		return nil, err
	}
	t.parts[pk] = p
	p.warm()
	return p, nil
}

// lookup returns the table named name, or nil when there is none (the
// caller then asks e.schema, which answers minidyn's error).
func (e *Engine) lookup(name *string) *table { return e.tables[aws.ToString(name)] }

// onPartition runs a one-item operation on the partition of key in table
// name, under the engine's lock (creating the partition for a write), or
// missing when there is no such table (minidyn's schema table answers its
// error). The four item operations differ only in op.
func onPartition[O any](ctx context.Context, e *Engine, name *string, key item, write bool, missing func() (O, error), op func(t *table, p *part) (O, error)) (O, error) {
	var zero O
	e.mu.Lock()
	defer e.unlock()
	if e.failure != nil {
		return zero, e.failure
	}
	t := e.lookup(name)
	if t == nil {
		return missing()
	}
	p, err := t.partition(ctx, key, write)
	if err != nil {
		return zero, err
	}
	return op(t, p)
}

// GetItem reads an item.
func (e *Engine) GetItem(ctx context.Context, in *miniserver.GetItemInput) (*miniserver.GetItemOutput, error) {
	return onPartition(ctx, e, in.TableName, in.Key, false,
		func() (*miniserver.GetItemOutput, error) { return e.schema.GetItem(ctx, in) },
		func(_ *table, p *part) (*miniserver.GetItemOutput, error) { return p.GetItem(ctx, in) })
}

// PutItem writes an item.
func (e *Engine) PutItem(ctx context.Context, in *miniserver.PutItemInput) (*miniserver.PutItemOutput, error) {
	return onPartition(ctx, e, in.TableName, in.Item, true,
		func() (*miniserver.PutItemOutput, error) { return e.schema.PutItem(ctx, in) },
		func(t *table, p *part) (*miniserver.PutItemOutput, error) {
			out, err := p.PutItem(ctx, in)
			if err != nil {
				return nil, err
			}
			e.written(ctx, t, p, t.keyOf(in.Item))
			return out, nil
		})
}

// DeleteItem deletes an item.
func (e *Engine) DeleteItem(ctx context.Context, in *miniserver.DeleteItemInput) (*miniserver.DeleteItemOutput, error) {
	return onPartition(ctx, e, in.TableName, in.Key, true,
		func() (*miniserver.DeleteItemOutput, error) { return e.schema.DeleteItem(ctx, in) },
		func(t *table, p *part) (*miniserver.DeleteItemOutput, error) {
			out, err := p.DeleteItem(ctx, in)
			if err != nil {
				return nil, err
			}
			e.written(ctx, t, p, in.Key)
			return out, nil
		})
}

// UpdateItem updates an item, then applies its REMOVE clauses (which
// minidyn ignores).
func (e *Engine) UpdateItem(ctx context.Context, in *miniserver.UpdateItemInput) (*miniserver.UpdateItemOutput, error) {
	return onPartition(ctx, e, in.TableName, in.Key, true,
		func() (*miniserver.UpdateItemOutput, error) { return e.schema.UpdateItem(ctx, in) },
		func(t *table, p *part) (*miniserver.UpdateItemOutput, error) {
			out, err := p.UpdateItem(ctx, in)
			if err != nil {
				return nil, err
			}
			removed, err := applyRemove(ctx, t, p, in.Key, aws.ToString(in.UpdateExpression), in.ExpressionAttributeNames)
			if err != nil {
				return nil, err
			}
			fixReturnValues(out, in.ReturnValues, removed)
			e.written(ctx, t, p, in.Key)
			return out, nil
		})
}

// written follows a write of key in partition p: the change is counted,
// the partition marked for the next snapshot and the index table brought in
// step.
func (e *Engine) written(ctx context.Context, t *table, p *part, key item) {
	e.version++
	if p != t.scratch {
		p.dirty = true
		t.dirty[p.key] = p
	}
	if t.indexes == nil {
		return
	}
	// Errors cannot happen here: the key was just written through minidyn,
	// which validated it. A failure would leave the index behind, as
	// DynamoDB's eventually consistent indexes may be.
	_ = t.syncIndex(ctx, p, t.keyOf(key))
}

// syncIndex copies the item at key into the partition of each global
// secondary index whose keys it has, and removes it from the others.
func (t *table) syncIndex(ctx context.Context, p *part, key item) error {
	out, err := p.GetItem(ctx, &miniserver.GetItemInput{TableName: aws.String(t.name), Key: key})
	if err != nil {
		return err
	}
	k := t.encodeKey(key)
	for _, ix := range t.indexList() {
		// An item that stays in its partition is overwritten (minidyn then
		// sorts no key list). One that leaves it is deleted first:
		// minidyn's index keeps a stale entry when an overwrite drops the
		// index keys.
		if old, ok := ix.in[k]; ok && old != ix.partKeyOf(out.Item) {
			ip, err := ix.partitionOf(ctx, old, false)
			if err != nil {
				return err
			}
			if _, err := ip.DeleteItem(ctx, &miniserver.DeleteItemInput{TableName: aws.String(t.name), Key: key}); err != nil {
				return err
			}
			ix.changed(ip)
			delete(ix.in, k)
		}
		if err := ix.put(ctx, k, out.Item); err != nil {
			return err
		}
	}
	return nil
}

// indexList is t's indexes' tables, in a fixed order.
func (t *table) indexList() []*table {
	names := make([]string, 0, len(t.indexes))
	for n := range t.indexes {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*table, 0, len(names))
	for _, n := range names {
		out = append(out, t.indexes[n])
	}
	return out
}

// partKeyOf is the index's partition of it ("" when it has not every key
// attribute of the index).
func (ix *table) partKeyOf(it item) string {
	for _, a := range ix.gsiKey {
		if it == nil || it[a] == nil {
			return ""
		}
	}
	pk, _ := partKey(it[ix.hash])
	return pk
}

// put adds it (primary key k) to the index's partition of its hash value
// when it has every key attribute of the index.
func (ix *table) put(ctx context.Context, k string, it item) error {
	pk := ix.partKeyOf(it)
	if pk == "" {
		return nil
	}
	ip, err := ix.partitionOf(ctx, pk, true)
	if err != nil {
		return err
	}
	if _, err := ip.PutItem(ctx, &miniserver.PutItemInput{TableName: aws.String(ix.name), Item: it}); err != nil {
		return err
	}
	ix.changed(ip)
	ix.in[k] = pk
	return nil
}

// changed marks an index partition written since its last encoding.
func (ix *table) changed(p *part) {
	p.dirty = true
	ix.dirty[p.key] = p
}

// removedAttrs lists the top-level attributes an update expression
// removes (names resolved). Nested paths are left to minidyn, which
// applies them.
func removedAttrs(expr string, names map[string]string) []string {
	if !strings.Contains(strings.ToUpper(expr), "REMOVE") {
		return nil
	}
	p := language.NewUpdateParser(language.NewLexer(expr))
	st := p.ParseUpdateExpression()
	if len(p.Errors()) > 0 || st == nil {
		return nil
	}
	ue, ok := st.Expression.(*language.UpdateExpression)
	if !ok {
		return nil
	}
	var out []string
	for _, x := range ue.Expressions {
		a, ok := x.(*language.ActionExpression)
		if !ok || a.Token.Type != language.REMOVE {
			continue
		}
		id, ok := a.Left.(*language.Identifier)
		if !ok || strings.ContainsAny(id.Value, ".[") {
			continue
		}
		name := id.Value
		if n, ok := names[name]; ok {
			name = n
		}
		out = append(out, name)
	}
	return out
}

// removal is what applyRemove took away: the removed attributes' values,
// and the item after the update.
type removal struct {
	old   item
	after item
}

// applyRemove deletes the top-level attributes expr removes from the item
// at key, after minidyn applied the rest of the update. It rewrites the
// item (delete, then put) so that minidyn's indexes drop keys it lost.
func applyRemove(ctx context.Context, t *table, p *part, key item, expr string, names map[string]string) (*removal, error) {
	attrs := removedAttrs(expr, names)
	if len(attrs) == 0 {
		return nil, nil
	}
	key = t.keyOf(key)
	out, err := p.GetItem(ctx, &miniserver.GetItemInput{TableName: aws.String(t.name), Key: key})
	if err != nil {
		return nil, err
	}
	r := &removal{old: item{}, after: out.Item}
	for _, a := range attrs {
		if v, ok := out.Item[a]; ok {
			r.old[a] = v
			delete(out.Item, a)
		}
	}
	if len(r.old) == 0 {
		return r, nil
	}
	if _, err := p.DeleteItem(ctx, &miniserver.DeleteItemInput{TableName: aws.String(t.name), Key: key}); err != nil {
		return nil, err
	}
	if _, err := p.PutItem(ctx, &miniserver.PutItemInput{TableName: aws.String(t.name), Item: out.Item}); err != nil {
		return nil, err
	}
	return r, nil
}

// fixReturnValues corrects an UpdateItem answer computed by minidyn before
// the removals of r.
func fixReturnValues(out *miniserver.UpdateItemOutput, rv ddbtypes.ReturnValue, r *removal) {
	if r == nil || len(r.old) == 0 {
		return
	}
	switch rv {
	case ddbtypes.ReturnValueAllNew:
		out.Attributes = r.after
	case ddbtypes.ReturnValueUpdatedNew:
		for a := range r.old {
			delete(out.Attributes, a)
		}
	case ddbtypes.ReturnValueUpdatedOld:
		if out.Attributes == nil {
			out.Attributes = item{}
		}
		for a, v := range r.old {
			out.Attributes[a] = v
		}
	}
}

// Query reads a partition, or a global secondary index.
func (e *Engine) Query(ctx context.Context, in *miniserver.QueryInput) (*miniserver.QueryOutput, error) {
	e.mu.Lock()
	defer e.unlock()
	if e.failure != nil {
		return nil, e.failure
	}
	t := e.lookup(in.TableName)
	if t == nil {
		return e.schema.Query(ctx, in)
	}
	if ix := t.indexes[aws.ToString(in.IndexName)]; ix != nil {
		t = ix
	}
	v, ok := hashValue(aws.ToString(in.KeyConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues, t.hash)
	if !ok {
		// Let minidyn reject what it rejects; what it accepts lacks the
		// equality on the partition key that DynamoDB requires.
		if _, err := t.scratch.Query(ctx, in); err != nil {
			return nil, err
		}
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "Query condition missed key schema element: " + t.hash}
	}
	p, err := t.partition(ctx, item{t.hash: v}, false)
	if err != nil {
		return nil, err
	}
	return p.Query(ctx, in)
}

// hashValue finds the value a key condition expression gives the hash key
// (an equality, alone or in a top-level AND).
func hashValue(expr string, names map[string]string, values item, hash string) (*av, bool) {
	p := language.NewParser(language.NewLexer(expr))
	c := p.ParseConditionalExpression()
	if len(p.Errors()) > 0 || c == nil {
		return nil, false
	}
	var find func(language.Expression) (*av, bool)
	find = func(x language.Expression) (*av, bool) {
		in, ok := x.(*language.InfixExpression)
		if !ok {
			return nil, false
		}
		switch strings.ToUpper(in.Operator) {
		case "AND":
			if v, ok := find(in.Left); ok {
				return v, true
			}
			return find(in.Right)
		case "=":
			l, lok := in.Left.(*language.Identifier)
			r, rok := in.Right.(*language.Identifier)
			if !lok || !rok {
				return nil, false
			}
			if strings.HasPrefix(l.Value, ":") {
				l, r = r, l
			}
			name := l.Value
			if n, ok := names[name]; ok {
				name = n
			}
			v := values[r.Value]
			return v, name == hash && v != nil
		}
		return nil, false
	}
	return find(c.Expression)
}

// Scan reads a table, partition after partition in key order, or a global
// secondary index.
func (e *Engine) Scan(ctx context.Context, in *miniserver.ScanInput) (*miniserver.ScanOutput, error) {
	e.mu.Lock()
	defer e.unlock()
	if e.failure != nil {
		return nil, e.failure
	}
	t := e.lookup(in.TableName)
	if t == nil {
		return e.schema.Scan(ctx, in)
	}
	if ix := t.indexes[aws.ToString(in.IndexName)]; ix != nil {
		t = ix
	}
	// Validate on the empty partition: a table without partitions answers
	// minidyn's errors too.
	if _, err := t.scratch.Scan(ctx, in); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(t.parts)+len(t.cold.at))
	for k := range t.parts {
		keys = append(keys, k)
	}
	for k := range t.cold.at {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	start, startKey := 0, ""
	if len(in.ExclusiveStartKey) > 0 {
		startKey, _ = partKey(in.ExclusiveStartKey[t.hash])
		start = sort.SearchStrings(keys, startKey)
	}
	limit := aws.ToInt32(in.Limit)
	out := &miniserver.ScanOutput{}
	for _, k := range keys[start:] {
		sub := *in
		sub.ExclusiveStartKey = nil
		if k == startKey {
			sub.ExclusiveStartKey = in.ExclusiveStartKey
		}
		if limit > 0 {
			sub.Limit = aws.Int32(limit)
		}
		c, err := t.reader(ctx, k)
		if err != nil {
			return nil, err
		}
		page, err := c.Scan(ctx, &sub)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, page.Items...)
		if len(page.LastEvaluatedKey) > 0 {
			out.LastEvaluatedKey = page.LastEvaluatedKey
			break
		}
		if limit > 0 {
			n, err := t.evaluated(ctx, c, sub.ExclusiveStartKey, page, in.FilterExpression != nil)
			if err != nil {
				return nil, err
			}
			limit -= n
		}
	}
	out.Count = int32(len(out.Items)) //nolint:gosec // G115: a page's items (1 MB at most), as DynamoDB's int32 Count
	return out, nil
}

// evaluated counts the items a partition's scan page evaluated (its
// Limit counts them, matched by the filter or not).
func (t *table) evaluated(ctx context.Context, p *miniserver.Client, start item, page *miniserver.ScanOutput, filtered bool) (int32, error) {
	if !filtered {
		return int32(len(page.Items)), nil //nolint:gosec // G115: a page's items (1 MB at most), as DynamoDB's int32
	}
	all, err := p.Scan(ctx, &miniserver.ScanInput{TableName: aws.String(t.name), ExclusiveStartKey: start})
	if err != nil {
		return 0, err
	}
	return int32(len(all.Items)), nil //nolint:gosec // G115: one partition's items in the emulator, as DynamoDB's int32
}

// BatchGetItem reads items of several tables.
func (e *Engine) BatchGetItem(ctx context.Context, in *miniserver.BatchGetItemInput) (*miniserver.BatchGetItemOutput, error) {
	e.mu.Lock()
	defer e.unlock()
	if e.failure != nil {
		return nil, e.failure
	}
	// minidyn validates the request on the empty tables.
	if _, err := e.schema.BatchGetItem(ctx, in); err != nil {
		return nil, err
	}
	out := &miniserver.BatchGetItemOutput{Responses: map[string][]item{}}
	for name, ka := range in.RequestItems {
		t := e.tables[name]
		rows := []item{}
		for _, k := range ka.Keys {
			p, err := t.partition(ctx, k, false)
			if err != nil {
				return nil, err
			}
			got, err := p.GetItem(ctx, &miniserver.GetItemInput{
				TableName: aws.String(name), Key: k, ExpressionAttributeNames: ka.ExpressionAttributeNames, ProjectionExpression: ka.ProjectionExpression,
			})
			if err != nil {
				return nil, err
			}
			if len(got.Item) > 0 {
				rows = append(rows, got.Item)
			}
		}
		out.Responses[name] = rows
	}
	return out, nil
}

// BatchWriteItem puts and deletes items of several tables (not atomically,
// as DynamoDB).
func (e *Engine) BatchWriteItem(ctx context.Context, in *miniserver.BatchWriteItemInput) (*miniserver.BatchWriteItemOutput, error) {
	e.mu.Lock()
	defer e.unlock()
	if e.failure != nil {
		return nil, e.failure
	}
	n := 0
	for name, reqs := range in.RequestItems {
		if e.tables[name] == nil {
			return nil, &ddbtypes.ResourceNotFoundException{Message: aws.String("Cannot do operations on a non-existent table")}
		}
		for _, r := range reqs {
			if (r.PutRequest == nil) == (r.DeleteRequest == nil) {
				return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"}
			}
			n++
		}
	}
	if n > 25 {
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "Too many items requested for the BatchWriteItem call"}
	}
	for name, reqs := range in.RequestItems {
		t := e.tables[name]
		for _, r := range reqs {
			key := item(nil)
			if r.PutRequest != nil {
				key = r.PutRequest.Item
			} else {
				key = r.DeleteRequest.Key
			}
			p, err := t.partition(ctx, key, true)
			if err != nil {
				return nil, err
			}
			if r.PutRequest != nil {
				_, err = p.PutItem(ctx, &miniserver.PutItemInput{TableName: aws.String(name), Item: r.PutRequest.Item})
			} else {
				_, err = p.DeleteItem(ctx, &miniserver.DeleteItemInput{TableName: aws.String(name), Key: r.DeleteRequest.Key})
			}
			if err != nil {
				return nil, err
			}
			e.written(ctx, t, p, key)
		}
	}
	return &miniserver.BatchWriteItemOutput{UnprocessedItems: map[string][]miniserver.WriteRequest{}}, nil
}

// TransactGetItems reads items at one point in time (under the lock).
func (e *Engine) TransactGetItems(ctx context.Context, in *miniserver.TransactGetItemsInput) (*miniserver.TransactGetItemsOutput, error) {
	e.mu.Lock()
	defer e.unlock()
	if e.failure != nil {
		return nil, e.failure
	}
	if _, err := e.schema.TransactGetItems(ctx, in); err != nil {
		return nil, err
	}
	out := &miniserver.TransactGetItemsOutput{}
	for _, ti := range in.TransactItems {
		g := ti.Get
		t := e.tables[aws.ToString(g.TableName)]
		p, err := t.partition(ctx, g.Key, false)
		if err != nil {
			return nil, err
		}
		got, err := p.GetItem(ctx, &miniserver.GetItemInput{TableName: g.TableName, Key: g.Key, ExpressionAttributeNames: g.ExpressionAttributeNames, ProjectionExpression: g.ProjectionExpression})
		if err != nil {
			return nil, err
		}
		out.Responses = append(out.Responses, miniserver.ItemResponse{Item: got.Item})
	}
	return out, nil
}

// txItem is one item of a transaction, resolved.
type txItem struct {
	t   *table
	p   *part
	key item
	// update is the update expression (REMOVE is applied after minidyn).
	update string
	names  map[string]string
	check  bool // a ConditionCheck: writes nothing
}

// undo restores an item a transaction wrote to its value before it.
type undo struct {
	t   *table
	p   *part
	key item
	old item // nil: there was none
}

// TransactWriteItems applies every item or none. Each item runs as a
// one-item minidyn transaction on its partition (its condition, its
// cancellation reason); when any is cancelled, the rest still run, so that
// each gets its reason as on DynamoDB, and every applied item is then
// restored to its value before the transaction.
func (e *Engine) TransactWriteItems(ctx context.Context, in *miniserver.TransactWriteItemsInput) (*miniserver.TransactWriteItemsOutput, error) {
	e.mu.Lock()
	defer e.unlock()
	if e.failure != nil {
		return nil, e.failure
	}
	items, err := e.resolve(ctx, in.TransactItems)
	if err != nil || items == nil {
		return nil, err
	}
	var (
		undos    []undo
		reasons  = make([]ddbtypes.CancellationReason, len(items))
		canceled bool
	)
	rollback := func() {
		for i := len(undos) - 1; i >= 0; i-- {
			undos[i].restore(ctx)
		}
	}
	for i, it := range items {
		reasons[i] = ddbtypes.CancellationReason{Code: aws.String("None")}
		before, err := it.p.GetItem(ctx, &miniserver.GetItemInput{TableName: aws.String(it.t.name), Key: it.key})
		if err != nil {
			rollback()
			return nil, err
		}
		_, err = it.p.TransactWriteItems(ctx, &miniserver.TransactWriteItemsInput{TransactItems: in.TransactItems[i : i+1]})
		var tce *ddbtypes.TransactionCanceledException
		switch {
		case errors.As(err, &tce) && len(tce.CancellationReasons) == 1:
			reasons[i], canceled = tce.CancellationReasons[0], true
			continue
		case err != nil:
			rollback()
			e.resync(ctx, undos)
			return nil, err
		}
		if it.check {
			continue
		}
		var old item
		if len(before.Item) > 0 {
			old = before.Item
		}
		undos = append(undos, undo{t: it.t, p: it.p, key: it.key, old: old})
		if _, err := applyRemove(ctx, it.t, it.p, it.key, it.update, it.names); err != nil {
			rollback()
			e.resync(ctx, undos)
			return nil, err
		}
	}
	if canceled {
		rollback()
		e.resync(ctx, undos)
		codes := make([]string, len(reasons))
		for i, r := range reasons {
			codes[i] = aws.ToString(r.Code)
		}
		return nil, &ddbtypes.TransactionCanceledException{
			Message:             aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]"),
			CancellationReasons: reasons,
		}
	}
	for _, u := range undos {
		e.written(ctx, u.t, u.p, u.key)
	}
	return &miniserver.TransactWriteItemsOutput{}, nil
}

// resync brings the index tables in step after a rollback (the restores
// rewrote the partitions only).
func (e *Engine) resync(ctx context.Context, undos []undo) {
	for _, u := range undos {
		if u.t.indexes != nil {
			_ = u.t.syncIndex(ctx, u.p, u.key)
		}
	}
}

// restore puts back the item as it was (delete, then put, for minidyn's
// indexes).
func (u undo) restore(ctx context.Context) {
	name := aws.String(u.t.name)
	// These cannot fail: the key was just written through minidyn.
	_, _ = u.p.DeleteItem(ctx, &miniserver.DeleteItemInput{TableName: name, Key: u.key})
	if u.old != nil {
		_, _ = u.p.PutItem(ctx, &miniserver.PutItemInput{TableName: name, Item: u.old})
	}
}

// resolve finds each transaction item's table and partition. It returns
// nil items and the error of a request minidyn refuses as a whole: a table
// that does not exist, or two operations on one item.
func (e *Engine) resolve(ctx context.Context, txs []miniserver.TransactWriteItem) ([]txItem, error) {
	out := make([]txItem, len(txs))
	seen := make(map[string]bool, len(txs))
	for i, tx := range txs {
		var (
			name   *string
			key    item
			update string
			names  map[string]string
			check  bool
		)
		switch {
		case tx.Put != nil:
			name, key, names = tx.Put.TableName, tx.Put.Item, tx.Put.ExpressionAttributeNames
		case tx.Update != nil:
			name, key, update, names = tx.Update.TableName, tx.Update.Key, aws.ToString(tx.Update.UpdateExpression), tx.Update.ExpressionAttributeNames
		case tx.Delete != nil:
			name, key = tx.Delete.TableName, tx.Delete.Key
		case tx.ConditionCheck != nil:
			name, key, check = tx.ConditionCheck.TableName, tx.ConditionCheck.Key, true
		default:
			return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "transaction item must include one of Put, Update, Delete, or ConditionCheck"}
		}
		t := e.lookup(name)
		if t == nil {
			// minidyn answers ResourceNotFoundException before applying
			// anything (the schema client's tables are empty).
			_, err := e.schema.TransactWriteItems(ctx, &miniserver.TransactWriteItemsInput{TransactItems: txs})
			if err == nil {
				err = &ddbtypes.ResourceNotFoundException{Message: aws.String("Cannot do operations on a non-existent table")}
			}
			return nil, err
		}
		id := t.name + "\x00" + t.encodeKey(key)
		if seen[id] {
			return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "Transaction request cannot include multiple operations on one item"}
		}
		seen[id] = true
		p, err := t.partition(ctx, key, true)
		if err != nil {
			return nil, err
		}
		out[i] = txItem{t: t, p: p, key: t.keyOf(key), update: update, names: names, check: check}
	}
	return out, nil
}
