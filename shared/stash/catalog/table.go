package catalog

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Attribute names of a catalog row. Purchases write conditions and updates
// against them (through the expression builder, which aliases every name,
// "name", a DynamoDB reserved word, included).
const (
	AttrProductID      = "productId"
	AttrGUID           = "guid"
	AttrName           = "name"
	AttrDescription    = "description"
	AttrImageURL       = "imageUrl"
	AttrPrices         = "prices"
	AttrMetadata       = "metadata"
	AttrUnlimited      = "unlimited"
	AttrStock          = "stock"
	AttrAvailable      = "available"
	AttrReserved       = "reserved"
	AttrSold           = "sold"
	AttrPerPlayerLimit = "perPlayerLimit"
	AttrLocked         = "locked"
	AttrActive         = "active"
	AttrVersion        = "version"
	AttrUpdatedAt      = "updatedAt"
)

// Scan reads every row of the catalog table (all pages, strongly
// consistent), sorted by productId.
func Scan(ctx context.Context, db *dynamodb.Client, table string) ([]Product, error) {
	var products []Product
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{
		TableName:      aws.String(table),
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan catalog table %s: %w", table, err)
		}
		for _, row := range page.Items {
			prod, err := fromItem(row)
			if err != nil {
				return nil, fmt.Errorf("scan catalog table %s: %w", table, err)
			}
			products = append(products, prod)
		}
	}
	slices.SortFunc(products, func(a, b Product) int { return cmp.Compare(a.ProductID, b.ProductID) })
	return products, nil
}

// get reads one row (strongly consistent); nil when it does not exist.
func get(ctx context.Context, db *dynamodb.Client, table, productID string) (*Product, error) {
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            key(productID),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("read catalog row %s: %w", productID, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	p, err := fromItem(out.Item)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func key(productID string) dynamo.Key { return dynamo.PK(productID) }

// fromItem reads a catalog row.
func fromItem(item map[string]types.AttributeValue) (Product, error) {
	pk := dynamo.StringAttr(item[dynamo.AttrPK])
	if pk == "" {
		return Product{}, fmt.Errorf("catalog row without a string pk")
	}
	p := Product{ProductID: pk}
	bad := func(attr string, err error) (Product, error) {
		return Product{}, fmt.Errorf("catalog row %s: attribute %s: %w", pk, attr, err)
	}
	var err error
	if id := dynamo.StringAttr(item[AttrProductID]); id != "" {
		p.ProductID = id
	}
	p.GUID = dynamo.StringAttr(item[AttrGUID])
	p.Name = dynamo.StringAttr(item[AttrName])
	p.Description = dynamo.StringAttr(item[AttrDescription])
	p.ImageURL = dynamo.StringAttr(item[AttrImageURL])
	if m, ok := item[AttrPrices].(*types.AttributeValueMemberM); ok {
		p.Prices = make(map[string]int64, len(m.Value))
		for cur, v := range m.Value {
			if p.Prices[cur], err = dynamo.IntAttr(v); err != nil {
				return bad(AttrPrices+"."+cur, err)
			}
		}
	}
	if m, ok := item[AttrMetadata].(*types.AttributeValueMemberM); ok && len(m.Value) > 0 {
		p.Metadata = make(map[string]string, len(m.Value))
		for k, v := range m.Value {
			p.Metadata[k] = dynamo.StringAttr(v)
		}
	}
	unlimited, hasUnlimited := item[AttrUnlimited].(*types.AttributeValueMemberBOOL)
	if v, ok := item[AttrStock]; ok && (!hasUnlimited || !unlimited.Value) {
		stock, err := dynamo.IntAttr(v)
		if err != nil {
			return bad(AttrStock, err)
		}
		p.Stock = &stock
	}
	if v, ok := item[AttrPerPlayerLimit]; ok {
		limit, err := dynamo.IntAttr(v)
		if err != nil {
			return bad(AttrPerPlayerLimit, err)
		}
		p.PerPlayerLimit = &limit
	}
	for attr, dst := range map[string]*int64{AttrAvailable: &p.Available, AttrReserved: &p.Reserved, AttrSold: &p.Sold, AttrVersion: &p.Version} {
		if v, ok := item[attr]; ok {
			if *dst, err = dynamo.IntAttr(v); err != nil {
				return bad(attr, err)
			}
		}
	}
	p.Locked = dynamo.BoolAttr(item[AttrLocked])
	p.Active = dynamo.BoolAttr(item[AttrActive])
	if p.UpdatedAt, err = dynamo.TimeAttr(item[AttrUpdatedAt]); err != nil {
		return bad(AttrUpdatedAt, err)
	}
	return p, nil
}
