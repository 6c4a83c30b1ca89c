package stores

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Limits of one license-key upload (the portal's License keys page).
const (
	MaxUploadBytes = 1 << 20 // 1 MiB
	MaxUploadLines = 10_000
)

// UploadTooLargeError refuses an upload over the limits, before anything
// is read or written; Message says which limit, for the page.
type UploadTooLargeError struct{ Message string }

func (e *UploadTooLargeError) Error() string { return "stores: upload refused: " + e.Message }

// Upload is a parsed license-key upload.
type Upload struct {
	Keys    map[string][]string // by SKU, in file order
	Invalid []LineProblem       // lines that hold no key, by line number
	lines   []keyLine
}

// ParseUpload reads pasted or uploaded license keys: one key per line for
// sku, or "sku,key" lines (sku "": only those). Over MaxUploadBytes or
// MaxUploadLines is an *UploadTooLargeError; otherwise every line that is
// not a key is listed (never quoting a key) and the rest are kept.
func ParseUpload(data, sku string) (Upload, error) {
	if len(data) > MaxUploadBytes {
		return Upload{}, &UploadTooLargeError{Message: fmt.Sprintf("the upload is %d bytes; at most %d (1 MiB) at once", len(data), MaxUploadBytes)}
	}
	// A final newline ends the last line; it does not start one.
	if n := strings.Count(strings.TrimSuffix(data, "\n"), "\n") + 1; n > MaxUploadLines {
		return Upload{}, &UploadTooLargeError{Message: fmt.Sprintf("the upload has %d lines; at most %d at once", n, MaxUploadLines)}
	}
	if sku != "" && !ValidSKU(sku) {
		return Upload{}, invalid("sku", "not a SKU")
	}
	lines, bad := parseKeyLines(data, sku)
	return Upload{Keys: keysBySKU(lines), Invalid: bad, lines: lines}, nil
}

// UploadSummary is what an upload did: keys added, keys the pools held
// already (or repeated in the upload), the lines that held no key, and
// the pool of each SKU it named afterwards.
type UploadSummary struct {
	Added, Duplicates int
	Invalid           []LineProblem
	Levels            map[string]Pool
}

// UploadLicenseKeys imports an upload (ParseUpload's rules) into the pools
// of store slug's products. Lines naming a SKU the store has not are
// invalid lines too.
//
// The audit row is written first, in its own transaction, before any key:
// an import spans many transactions (up to 40 keys each, per shard), each
// idempotent by the key's digest, so a failed upload is completed by
// uploading again. The audit row cannot ride in "the first" of them: which
// transaction is first, and whether there is one at all (every key known)
// depends on the pool, and a transaction retried after a lost answer would
// write it twice or be refused by it. First and alone, no key is ever
// added without an audit row of an upload that added it (a retried upload
// writes one more row: the retry is an upload too). Keys are never
// returned or logged.
func (a Admin) UploadLicenseKeys(ctx context.Context, slug, sku, data string, audit types.TransactWriteItem) (UploadSummary, error) {
	up, err := ParseUpload(data, sku)
	if err != nil {
		return UploadSummary{}, err
	}
	l, err := ReadListing(ctx, a.DB, a.Table, slug)
	if err != nil {
		return UploadSummary{}, err
	}
	if !l.Found {
		return UploadSummary{}, fmt.Errorf("%w: %s", ErrNoStore, slug)
	}
	if _, ok := l.Products[sku]; sku != "" && !ok {
		return UploadSummary{}, fmt.Errorf("%w: %s/%s", ErrUnknownSKU, slug, sku)
	}
	out := UploadSummary{Invalid: up.Invalid, Levels: map[string]Pool{}}
	for _, k := range up.lines {
		if _, ok := l.Products[k.sku]; !ok {
			out.Invalid = append(out.Invalid, LineProblem{Line: k.line, Reason: fmt.Sprintf("the store has no product %q", k.sku)})
			delete(up.Keys, k.sku)
		}
	}
	sort.Slice(out.Invalid, func(i, j int) bool { return out.Invalid[i].Line < out.Invalid[j].Line })
	if len(up.Keys) == 0 {
		return out, nil
	}
	if ops := withAudit(nil, audit); len(ops) > 0 {
		if err := a.st().Transact(ctx, ops); err != nil {
			return UploadSummary{}, fmt.Errorf("upload of %s: audit: %w", slug, err)
		}
	}
	skus := make([]string, 0, len(up.Keys))
	for s := range up.Keys {
		skus = append(skus, s)
	}
	sort.Strings(skus)
	for _, s := range skus {
		added, known, err := a.ImportLicenseKeys(ctx, slug, s, up.Keys[s])
		out.Added += added
		out.Duplicates += known
		if err != nil {
			return out, err
		}
		if out.Levels[s], err = ReadPool(ctx, a.DB, a.Table, slug, s); err != nil {
			return out, err
		}
	}
	return out, nil
}

// PoolLevels reads the pool of every product of store slug (keys left,
// claimed and ever imported, by SKU): the store's listing (one Query) and
// every shard (one BatchGetItem per 100 shards).
func (a Admin) PoolLevels(ctx context.Context, slug string) (map[string]Pool, error) {
	l, err := ReadListing(ctx, a.DB, a.Table, slug)
	if err != nil {
		return nil, err
	}
	if !l.Found {
		return nil, fmt.Errorf("%w: %s", ErrNoStore, slug)
	}
	out := map[string]Pool{}
	var sharded []Product
	for sku, p := range l.Products {
		if p.legacyUnmigrated {
			// Its counters are on its product row: ReadPool reads them.
			if out[sku], err = ReadPool(ctx, a.DB, a.Table, slug, sku); err != nil {
				return nil, err
			}
			continue
		}
		sharded = append(sharded, p)
		out[sku] = Pool{Total: p.KeysTotal, Shards: p.PoolShards, Legacy: p.poolLegacy}
	}
	shards, err := readShards(ctx, a.DB, a.Table, slug, sharded)
	if err != nil {
		return nil, err
	}
	for sku, byID := range shards {
		pool := out[sku]
		for _, s := range byID {
			pool.Claimed += s.next
			pool.Available += max(0, s.end-s.next)
		}
		out[sku] = pool
	}
	return out, nil
}
