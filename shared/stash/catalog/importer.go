package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/retry"
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
// between the read and the write. An import is an operator's command, not a
// request anyone waits on, and a hot product sells during it: it may try
// harder than a request does.
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
		ch, err := im.apply(ctx, want.ProductID, current[want.ProductID], func(have *Product) (*op, error) {
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

// planFunc plans the write that brings row have (nil: none) to what the
// file wants; nil when the row needs none.
type planFunc func(have *Product) (*op, error)

// rowRetry retries a write whose condition failed: a purchase or another
// import changed the row between the read and the write, and a fresh read
// and plan cure that. The short jittered pause spreads racing imports out.
var rowRetry = retry.Policy{
	Attempts: maxAttempts,
	Retryable: func(err error) bool {
		var failed *types.ConditionalCheckFailedException
		return errors.As(err, &failed)
	},
	Backoff: retry.Jittered(20*time.Millisecond, 80*time.Millisecond),
}

// apply plans the change of one row from have and writes it; when the
// write's condition fails it reads the row again and plans again. It returns
// nil when the row needs no change.
func (im importer) apply(ctx context.Context, productID string, have *Product, plan planFunc) (*Change, error) {
	attempt := 0
	ch, err := retry.Do(ctx, rowRetry, func(ctx context.Context) (*Change, error) {
		if attempt++; attempt > 1 {
			var err error
			if have, err = get(ctx, im.db, im.table, productID); err != nil {
				return nil, fmt.Errorf("import %s: %w", productID, err)
			}
		}
		o, err := plan(have)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", productID, err)
		}
		if o == nil {
			return nil, nil
		}
		if !im.write {
			return &o.change, nil
		}
		err = o.exec(ctx, im.db)
		var failed *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			return &o.change, nil
		case errors.As(err, &failed) && attempt == rowRetry.Attempts:
			return nil, fmt.Errorf("import %s (%s): the row changed under every one of %d attempts: %w", productID, o.change.Kind, attempt, err)
		default:
			return nil, fmt.Errorf("import %s (%s): %w", productID, o.change.Kind, err)
		}
	})
	// Every error of an attempt is wrapped above; Do returns ctx's own,
	// unwrapped, when ctx ends during a back-off.
	if err != nil && err == ctx.Err() { //nolint:errorlint // identity on purpose: ctx's own error, not an attempt's wrapping it
		return nil, fmt.Errorf("import %s: %w", productID, err)
	}
	return ch, err
}

// planProduct plans the write that makes row have (nil: none) match want.
func (im importer) planProduct(want Product, have *Product) (*op, error) {
	if have == nil {
		return im.planCreate(want)
	}
	var u rowUpdate
	kind := KindUpdate
	u.text(AttrGUID, want.GUID, have.GUID)
	u.text(AttrName, want.Name, have.Name)
	u.text(AttrDescription, want.Description, have.Description)
	u.text(AttrImageURL, want.ImageURL, have.ImageURL)
	if !maps.Equal(want.Prices, have.Prices) {
		u.changed(AttrPrices)
		u.set(AttrPrices, want.Prices)
	}
	if !EqualOptional(want.Stock, have.Stock) {
		kind = KindRestock
		u.changed(AttrStock)
		restock(&u, want.Stock, *have)
	}
	if !EqualOptional(want.PerPlayerLimit, have.PerPlayerLimit) {
		u.changed(AttrPerPlayerLimit)
		if want.PerPlayerLimit == nil {
			u.remove(AttrPerPlayerLimit)
		} else {
			u.set(AttrPerPlayerLimit, *want.PerPlayerLimit)
		}
	}
	if want.Locked != have.Locked {
		u.changed(AttrLocked)
		u.set(AttrLocked, want.Locked)
	}
	if !maps.Equal(want.Metadata, have.Metadata) {
		u.changed(AttrMetadata)
		if len(want.Metadata) == 0 {
			u.remove(AttrMetadata)
		} else {
			u.set(AttrMetadata, want.Metadata)
		}
	}
	if !have.Active {
		kind = KindReactivate
		u.changed(AttrActive)
		u.set(AttrActive, true)
	}
	if len(u.fields) == 0 {
		return nil, nil
	}
	return im.updateOp(Change{ProductID: want.ProductID, Kind: kind, Fields: u.fields}, u, *have)
}

// planCreate plans the PutItem of a product new to the table; the
// condition keeps it from overwriting a row another import created since
// the read.
func (im importer) planCreate(want Product) (*op, error) {
	item, err := newRow(want, im.now)
	if err != nil {
		return nil, err
	}
	x, err := expression.NewBuilder().WithCondition(dynamo.NotExists()).Build()
	if err != nil {
		return nil, fmt.Errorf("build put condition: %w", err)
	}
	return &op{
		change: Change{ProductID: want.ProductID, Kind: KindCreate},
		put: &dynamodb.PutItemInput{
			TableName:                 aws.String(im.table),
			Item:                      item,
			ConditionExpression:       x.Condition(),
			ExpressionAttributeNames:  x.Names(),
			ExpressionAttributeValues: x.Values(),
		},
	}, nil
}

// restock adds to u the move of row have's stock to want (nil: unlimited).
// Purchases keep changing available, reserved and sold meanwhile: they are
// adjusted by a delta, or recomputed on condition that they are as read,
// never overwritten from a stale read.
func restock(u *rowUpdate, want *int64, have Product) {
	switch {
	case want != nil && have.Stock != nil:
		// limited → limited: move available by the difference, so units
		// reserved or sold meanwhile stay counted.
		u.set(AttrStock, *want)
		u.add(AttrAvailable, *want-*have.Stock)
		u.requireEqual(AttrStock, *have.Stock)
	case want != nil:
		// unlimited → limited: available from the counters as read, on
		// condition they are still those.
		u.set(AttrStock, *want)
		u.set(AttrUnlimited, false)
		u.set(AttrAvailable, *want-have.Reserved-have.Sold)
		u.requireEqual(AttrReserved, have.Reserved)
		u.requireEqual(AttrSold, have.Sold)
		u.requireEqual(AttrUnlimited, true)
	default:
		// limited → unlimited: available keeps moving with purchases but
		// means nothing any more.
		u.set(AttrUnlimited, true)
		u.remove(AttrStock)
		u.requireEqual(AttrStock, *have.Stock)
	}
}

// planRemoval plans the deactivation of a row the file no longer lists.
func (im importer) planRemoval(have *Product) (*op, error) {
	if have == nil || !have.Active {
		return nil, nil
	}
	var u rowUpdate
	u.changed(AttrActive)
	u.set(AttrActive, false)
	u.requireEqual(AttrActive, true)
	return im.updateOp(Change{ProductID: have.ProductID, Kind: KindDeactivate, Fields: u.fields}, u, *have)
}

// updateOp finishes u into the UpdateItem of row have: version + 1,
// updatedAt, and the condition that the row still exists with the version
// read, so a concurrent import is not overwritten either.
func (im importer) updateOp(change Change, u rowUpdate, have Product) (*op, error) {
	version := expression.Name(AttrVersion)
	u.update = u.update.Set(version, expression.Plus(version.IfNotExists(expression.Value(0)), expression.Value(1)))
	u.set(AttrUpdatedAt, dynamo.Timestamp(im.now))
	u.require(dynamo.Exists())
	if have.Version == 0 {
		u.require(version.AttributeNotExists())
	} else {
		u.requireEqual(AttrVersion, have.Version)
	}
	x, err := u.build()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", change.Kind, have.ProductID, err)
	}
	return &op{
		change: change,
		update: &dynamodb.UpdateItemInput{
			TableName:                 aws.String(im.table),
			Key:                       key(have.ProductID),
			UpdateExpression:          x.Update(),
			ConditionExpression:       x.Condition(),
			ExpressionAttributeNames:  x.Names(),
			ExpressionAttributeValues: x.Values(),
		},
	}, nil
}
