package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/store"
)

// Kinds of Change.
const (
	KindCreate     = "create"     // a new row
	KindUpdate     = "update"     // fields other than stock changed
	KindRestock    = "restock"    // the stock changed (limited ↔ unlimited included), maybe other fields too
	KindDeactivate = "deactivate" // the product left the file
	KindReactivate = "reactivate" // the product came back to the file, maybe with other changes
)

// Change is what an import does to one row.
type Change struct {
	ProductID string
	Kind      string
	// Fields lists the changed fields by their file names (guid, name,
	// description, imageUrl, prices, stock, perPlayerLimit, locked,
	// metadata, active), in that order. A create lists none.
	Fields []string
}

// String is the change as cmd/catalog prints it: "create gem_pack",
// "update gem_pack: prices,name", "deactivate old_item".
func (c Change) String() string {
	fields := slices.DeleteFunc(slices.Clone(c.Fields), func(f string) bool {
		return f == AttrActive && (c.Kind == KindDeactivate || c.Kind == KindReactivate)
	})
	if len(fields) == 0 || c.Kind == KindCreate {
		return c.Kind + " " + c.ProductID
	}
	return c.Kind + " " + c.ProductID + ": " + strings.Join(fields, ",")
}

// ImportResult is what an import changed (or, from Diff, would change):
// the changes in file order followed by the deactivations sorted by
// productId, and how many products of the file needed no write.
type ImportResult struct {
	Changes   []Change
	Unchanged int
}

// Count returns how many changes are of kind.
func (r ImportResult) Count(kind string) int {
	total := 0
	for _, c := range r.Changes {
		if c.Kind == kind {
			total++
		}
	}
	return total
}

// Summary is one line counting the changes by kind: "create 1, update 2,
// restock 0, deactivate 0, reactivate 0, unchanged 7".
func (r ImportResult) Summary() string {
	return fmt.Sprintf("create %d, update %d, restock %d, deactivate %d, reactivate %d, unchanged %d",
		r.Count(KindCreate), r.Count(KindUpdate), r.Count(KindRestock), r.Count(KindDeactivate), r.Count(KindReactivate), r.Unchanged)
}

// maxAttempts bounds how often Import re-reads and retries a row whose
// condition failed because something (a purchase, another import) changed it
// between the read and the write.
const maxAttempts = 8

// Diff computes what Import would do, without writing (used for --dry-run).
func Diff(ctx context.Context, db *dynamodb.Client, table string, f File) (ImportResult, error) {
	return run(ctx, db, table, f, false)
}

// Import writes f to the table and returns what it changed. f is validated
// as ParseFile does first. It reads the table once (Scan, consistent), then
// writes one row at a time:
//
//   - a new product: PutItem if attribute_not_exists(pk), available = stock
//     (0 when unlimited), reserved = sold = 0, version 1, active;
//   - limited → limited with another stock: SET stock = :new ADD available
//     :delta (new − old) if stock = :old;
//   - unlimited → limited: SET stock, unlimited = false, available = new −
//     reserved − sold, if reserved, sold and unlimited are still as read;
//   - limited → unlimited: SET unlimited = true REMOVE stock (available is
//     left alone);
//   - other fields: SET (or REMOVE when emptied) only those that changed;
//   - a product missing from the file: SET active = false if active; one
//     that comes back is set active again.
//
// Each UpdateItem also sets version = version + 1 and updatedAt, and is
// conditional on the row existing with the version read, so a concurrent
// import is not overwritten either. Rows that match the file are not
// written. When a condition fails, the row is read again (GetItem,
// consistent) and its change planned again, up to 8 times. On an error, the
// result holds the changes already written.
func Import(ctx context.Context, db *dynamodb.Client, table string, f File) (ImportResult, error) {
	return run(ctx, db, table, f, true)
}

func run(ctx context.Context, db *dynamodb.Client, table string, f File, write bool) (ImportResult, error) {
	// A File built in code gets the checks of a parsed one (non-empty,
	// unique ids, valid prices, ...).
	data, err := json.Marshal(f)
	if err != nil {
		return ImportResult{}, fmt.Errorf("encode catalog: %w", err)
	}
	if _, err := ParseFile(data); err != nil {
		return ImportResult{}, err
	}
	rows, err := Scan(ctx, db, table)
	if err != nil {
		return ImportResult{}, err
	}
	current := make(map[string]*Product, len(rows))
	for i := range rows {
		current[rows[i].ProductID] = &rows[i]
	}
	im := importer{db: db, table: table, write: write, now: time.Now()}
	var res ImportResult
	inFile := make(map[string]bool, len(f.Products))
	for _, want := range f.Products {
		inFile[want.ProductID] = true
		ch, err := im.apply(ctx, want.ProductID, current[want.ProductID], func(have *Product) (op, bool) {
			return im.planProduct(want, have)
		})
		if err != nil {
			return res, err
		}
		if ch == nil {
			res.Unchanged++
			continue
		}
		res.Changes = append(res.Changes, *ch)
	}
	for _, row := range rows {
		if inFile[row.ProductID] {
			continue
		}
		ch, err := im.apply(ctx, row.ProductID, current[row.ProductID], im.planRemoval)
		if err != nil {
			return res, err
		}
		if ch != nil {
			res.Changes = append(res.Changes, *ch)
		}
	}
	return res, nil
}

type importer struct {
	db    *dynamodb.Client
	table string
	write bool
	now   time.Time
}

// op is one planned write.
type op struct {
	change Change
	put    *dynamodb.PutItemInput
	update *dynamodb.UpdateItemInput
}

func (o op) exec(ctx context.Context, db *dynamodb.Client) error {
	if o.put != nil {
		_, err := db.PutItem(ctx, o.put)
		return err
	}
	_, err := db.UpdateItem(ctx, o.update)
	return err
}

// apply plans the change of one row from have and writes it; when the
// write's condition fails it reads the row again and plans again. It returns
// nil when the row needs no change.
func (im importer) apply(ctx context.Context, productID string, have *Product, plan func(*Product) (op, bool)) (*Change, error) {
	for attempt := 1; ; attempt++ {
		o, changed := plan(have)
		if !changed {
			return nil, nil
		}
		if !im.write {
			return &o.change, nil
		}
		err := o.exec(ctx, im.db)
		if err == nil {
			return &o.change, nil
		}
		var failed *types.ConditionalCheckFailedException
		if !errors.As(err, &failed) {
			return nil, fmt.Errorf("import %s (%s): %w", productID, o.change.Kind, err)
		}
		if attempt == maxAttempts {
			return nil, fmt.Errorf("import %s (%s): the row changed under every one of %d attempts: %w", productID, o.change.Kind, attempt, err)
		}
		if err := store.Sleep(ctx, time.Duration(attempt)*10*time.Millisecond+rand.N(10*time.Millisecond)); err != nil {
			return nil, fmt.Errorf("import %s: %w", productID, err)
		}
		if have, err = get(ctx, im.db, im.table, productID); err != nil {
			return nil, fmt.Errorf("import %s: %w", productID, err)
		}
	}
}

// planProduct plans the write that makes row have (nil: none) match want.
func (im importer) planProduct(want Product, have *Product) (op, bool) {
	if have == nil {
		return op{
			change: Change{ProductID: want.ProductID, Kind: KindCreate},
			put: &dynamodb.PutItemInput{
				TableName:                aws.String(im.table),
				Item:                     newItem(want, im.now),
				ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
				ExpressionAttributeNames: map[string]string{"#pk": store.AttrPK},
			},
		}, true
	}
	e := newExpr()
	var fields []string
	kind := KindUpdate
	text := func(field, wantV, haveV string) {
		if wantV == haveV {
			return
		}
		fields = append(fields, field)
		if wantV == "" {
			e.remove(field)
		} else {
			e.set(field, s(wantV))
		}
	}
	text(AttrGUID, want.GUID, have.GUID)
	text(AttrName, want.Name, have.Name)
	text(AttrDescription, want.Description, have.Description)
	text(AttrImageURL, want.ImageURL, have.ImageURL)
	if !maps.Equal(want.Prices, have.Prices) {
		fields = append(fields, AttrPrices)
		e.set(AttrPrices, pricesValue(want.Prices))
	}
	if stockChanged(want.Stock, have.Stock) {
		fields = append(fields, AttrStock)
		kind = KindRestock
		switch {
		case want.Stock != nil && have.Stock != nil:
			// limited → limited: move available by the difference, so units
			// reserved or sold meanwhile stay counted.
			e.set(AttrStock, n(*want.Stock))
			e.addN(AttrAvailable, *want.Stock-*have.Stock)
			e.cond("%s = %s", e.name(AttrStock), e.value("oldStock", n(*have.Stock)))
		case want.Stock != nil:
			// unlimited → limited: available from the counters as read,
			// on condition they are still those.
			e.set(AttrStock, n(*want.Stock))
			e.set(AttrUnlimited, b(false))
			e.set(AttrAvailable, n(*want.Stock-have.Reserved-have.Sold))
			e.cond("%s = %s", e.name(AttrReserved), e.value("reserved", n(have.Reserved)))
			e.cond("%s = %s", e.name(AttrSold), e.value("sold", n(have.Sold)))
			e.cond("%s = %s", e.name(AttrUnlimited), e.value("true", b(true)))
		default:
			// limited → unlimited: available keeps moving with purchases
			// but means nothing any more.
			e.set(AttrUnlimited, b(true))
			e.remove(AttrStock)
			e.cond("%s = %s", e.name(AttrStock), e.value("oldStock", n(*have.Stock)))
		}
	}
	if !equalPtr(want.PerPlayerLimit, have.PerPlayerLimit) {
		fields = append(fields, AttrPerPlayerLimit)
		if want.PerPlayerLimit == nil {
			e.remove(AttrPerPlayerLimit)
		} else {
			e.set(AttrPerPlayerLimit, n(*want.PerPlayerLimit))
		}
	}
	if want.Locked != have.Locked {
		fields = append(fields, AttrLocked)
		e.set(AttrLocked, b(want.Locked))
	}
	if !maps.Equal(want.Metadata, have.Metadata) {
		fields = append(fields, AttrMetadata)
		if len(want.Metadata) == 0 {
			e.remove(AttrMetadata)
		} else {
			e.set(AttrMetadata, metadataValue(want.Metadata))
		}
	}
	if !have.Active {
		fields = append(fields, AttrActive)
		kind = KindReactivate
		e.set(AttrActive, b(true))
	}
	if len(fields) == 0 {
		return op{}, false
	}
	return op{
		change: Change{ProductID: want.ProductID, Kind: kind, Fields: fields},
		update: im.update(e, *have),
	}, true
}

// planRemoval plans the deactivation of a row the file no longer lists.
func (im importer) planRemoval(have *Product) (op, bool) {
	if have == nil || !have.Active {
		return op{}, false
	}
	e := newExpr()
	e.set(AttrActive, b(false))
	e.cond("%s = %s", e.name(AttrActive), e.value("true", b(true)))
	return op{
		change: Change{ProductID: have.ProductID, Kind: KindDeactivate, Fields: []string{AttrActive}},
		update: im.update(e, *have),
	}, true
}

// update finishes e into an UpdateItem of row have: version + 1, updatedAt,
// and the condition that the row still exists with the version read.
func (im importer) update(e *expr, have Product) *dynamodb.UpdateItemInput {
	version := e.name(AttrVersion)
	e.setExpr(AttrVersion, fmt.Sprintf("if_not_exists(%s, %s) + %s", version, e.value("zero", n(0)), e.value("one", n(1))))
	e.set(AttrUpdatedAt, timestamp(im.now))
	e.cond("attribute_exists(%s)", e.name(store.AttrPK))
	if have.Version == 0 {
		e.cond("attribute_not_exists(%s)", version)
	} else {
		e.cond("%s = %s", version, e.value("version", n(have.Version)))
	}
	return &dynamodb.UpdateItemInput{
		TableName:                 aws.String(im.table),
		Key:                       key(have.ProductID),
		UpdateExpression:          aws.String(e.updateExpression()),
		ConditionExpression:       aws.String(strings.Join(e.conds, " AND ")),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.values,
	}
}

func stockChanged(want, have *int64) bool { return !equalPtr(want, have) }

func equalPtr(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// expr collects the clauses of an update expression and its condition.
type expr struct {
	sets, removes, adds, conds []string
	names                      map[string]string
	values                     map[string]types.AttributeValue
}

func newExpr() *expr {
	return &expr{names: map[string]string{}, values: map[string]types.AttributeValue{}}
}

// name returns the placeholder of attribute attr (every attribute goes
// through one: name, locked, ... are reserved words).
func (e *expr) name(attr string) string {
	e.names["#"+attr] = attr
	return "#" + attr
}

func (e *expr) value(placeholder string, v types.AttributeValue) string {
	e.values[":"+placeholder] = v
	return ":" + placeholder
}

func (e *expr) set(attr string, v types.AttributeValue) {
	e.setExpr(attr, e.value(attr, v))
}

func (e *expr) setExpr(attr, rhs string) {
	e.sets = append(e.sets, e.name(attr)+" = "+rhs)
}

func (e *expr) remove(attr string) { e.removes = append(e.removes, e.name(attr)) }

func (e *expr) addN(attr string, delta int64) {
	e.adds = append(e.adds, e.name(attr)+" "+e.value("add_"+attr, n(delta)))
}

func (e *expr) cond(format string, args ...any) {
	e.conds = append(e.conds, fmt.Sprintf(format, args...))
}

func (e *expr) updateExpression() string {
	var parts []string
	if len(e.sets) > 0 {
		parts = append(parts, "SET "+strings.Join(e.sets, ", "))
	}
	if len(e.removes) > 0 {
		parts = append(parts, "REMOVE "+strings.Join(e.removes, ", "))
	}
	if len(e.adds) > 0 {
		parts = append(parts, "ADD "+strings.Join(e.adds, ", "))
	}
	return strings.Join(parts, " ")
}
