package embeddeddb

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	miniserver "github.com/truora/minidyn/server"
)

// FileName is the file, in the data directory, that holds the store.
const FileName = "embedded-dynamodb.jsonl"

// format names the file format on its first line.
const format = "tollgate-embedded-dynamodb/1"

// line is one line of the file (JSON lines): the header, then each table
// followed by its items, then the end, which counts them (a file without
// it, or with other counts, is incomplete).
type line struct {
	Format string                       `json:"format,omitempty"`
	Table  *miniserver.CreateTableInput `json:"table,omitempty"`
	Item   item                         `json:"item,omitempty"`
	End    *counts                      `json:"end,omitempty"`
}

type counts struct {
	Tables int `json:"tables"`
	Items  int `json:"items"`
}

// snapshot is the engine's content at one version, as encoded lines.
type snapshot struct {
	version uint64
	chunks  [][]byte // each table's line, then its partitions' item lines
	counts  counts
}

// snapshot encodes the engine's tables and items. Under the lock it
// encodes only the partitions written since their last encoding; the rest
// (cold ones included) reuse theirs.
func (e *Engine) snapshot(ctx context.Context) (snapshot, error) {
	e.mu.Lock()
	defer e.unlock()
	s := snapshot{version: e.version}
	names := make([]string, 0, len(e.tables))
	for n := range e.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := e.tables[n]
		for _, p := range t.dirty {
			if err := p.encode(ctx); err != nil {
				return snapshot{}, err
			}
		}
		head, err := json.Marshal(line{Table: &t.create})
		if err != nil {
			return snapshot{}, fmt.Errorf("encode table %s: %w", n, err)
		}
		s.chunks = append(s.chunks, append(head, '\n'))
		s.counts.Tables++
		add := func(enc []byte) {
			if len(enc) > 0 {
				s.chunks = append(s.chunks, enc)
				s.counts.Items += bytes.Count(enc, []byte{'\n'})
			}
		}
		for _, p := range t.parts {
			add(p.enc)
		}
		for k := range t.cold.at {
			enc, _ := t.cold.get(k)
			add(enc)
		}
	}
	return s, nil
}

// encodePartition encodes a partition's items, one line each.
func (t *table) encodePartition(ctx context.Context, c *miniserver.Client) ([]byte, error) {
	out, err := c.Scan(ctx, &miniserver.ScanInput{TableName: aws.String(t.name)})
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", t.name, err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, it := range out.Items {
		if err := enc.Encode(line{Item: it}); err != nil {
			return nil, fmt.Errorf("encode an item of %s: %w", t.name, err)
		}
	}
	return b.Bytes(), nil
}

// Load reads a store written by a Store into e, which must have no
// tables yet. Any error means the file is not a complete store.
func (e *Engine) Load(ctx context.Context, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	e.mu.Lock()
	defer e.unlock()
	if len(e.tables) > 0 {
		return errors.New("load into an engine that has tables")
	}
	var (
		got counts
		t   *table
	)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Bytes()
		var l line
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if n == 1 {
			if l.Format != format {
				return fmt.Errorf("line 1: format %q, want %q", l.Format, format)
			}
			continue
		}
		switch {
		case l.Table != nil:
			if t != nil {
				t.flushLoad()
			}
			if _, err := e.createTable(ctx, l.Table); err != nil {
				return fmt.Errorf("line %d: create table %s: %w", n, aws.ToString(l.Table.TableName), err)
			}
			t = e.tables[aws.ToString(l.Table.TableName)]
			got.Tables++
		case l.Item != nil:
			if t == nil {
				return fmt.Errorf("line %d: an item before any table", n)
			}
			if err := t.load(ctx, l.Item, raw); err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
			got.Items++
		case l.End != nil:
			if t != nil {
				t.flushLoad()
			}
			if *l.End != got {
				return fmt.Errorf("line %d: the end line counts %d tables and %d items, the file has %d and %d", n, l.End.Tables, l.End.Items, got.Tables, got.Items)
			}
			if sc.Scan() {
				return fmt.Errorf("line %d: content after the end line", n+1)
			}
			return sc.Err()
		default:
			return fmt.Errorf("line %d: neither a table, an item nor the end", n)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if got == (counts{}) {
		return errors.New("line 1: empty file")
	}
	return errors.New("the file ends without its end line: it is incomplete")
}

// load adds a loaded item to its partition, which stays cold (its line is
// its encoding), and to the index table when it has an index's keys.
func (t *table) load(ctx context.Context, it item, raw []byte) error {
	for _, a := range t.key {
		if _, ok := partKey(it[a]); !ok {
			return fmt.Errorf("an item of %s without its key attribute %s", t.name, a)
		}
	}
	pk, _ := partKey(it[t.hash])
	if pk != t.loading {
		t.flushLoad()
		t.loading = pk
	}
	t.loaded = append(append(t.loaded, raw...), '\n')
	k := t.encodeKey(it)
	for _, ix := range t.indexList() {
		if err := ix.put(ctx, k, it); err != nil {
			return fmt.Errorf("put an item of %s: %w", t.name, err)
		}
	}
	return nil
}

// flushLoad stores the lines loaded for one partition (a file holds a
// partition's lines one after the other) as its cold encoding.
func (t *table) flushLoad() {
	if len(t.loaded) == 0 {
		return
	}
	enc, _ := t.cold.get(t.loading)
	t.cold.put(t.loading, append(append([]byte(nil), enc...), t.loaded...))
	t.loading, t.loaded = "", t.loaded[:0]
}

// Store keeps an engine in a file of a directory: loaded by OpenStore,
// written by Save (atomically: a temporary file, synced, renamed over the
// old one, so a crash leaves the previous or the new file, never a torn
// one).
type Store struct {
	e      *Engine
	dir    string
	path   string
	logger *slog.Logger

	mu    sync.Mutex // one Save at a time
	saved uint64     // the engine version last written
}

// OpenStore loads dir's file into e (which must be new), when there is one,
// and returns the Store that saves e there. A file that cannot be read or
// loaded is an error, and the file is left untouched.
func OpenStore(ctx context.Context, e *Engine, dir string, logger *slog.Logger) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	s := &Store{e: e, dir: dir, path: filepath.Join(dir, FileName), logger: logger}
	// Temporary files of a Save that did not finish (a kill -9).
	if stale, err := filepath.Glob(filepath.Join(dir, "."+FileName+".*.tmp")); err == nil {
		for _, f := range stale {
			_ = os.Remove(f)
		}
	}
	f, err := os.Open(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		s.saved = e.Version()
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", s.path, err)
	}
	defer f.Close()
	if err := e.Load(ctx, f); err != nil {
		return nil, fmt.Errorf("%s cannot be loaded (left as it is; move it away to start empty): %w", s.path, err)
	}
	s.saved = e.Version()
	return s, nil
}

// Path is the file the store is kept in.
func (s *Store) Path() string { return s.path }

// Save writes the engine to the file if it changed since the last Save.
func (s *Store) Save(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.e.Version() == s.saved {
		return nil
	}
	start := time.Now()
	snap, err := s.e.snapshot(ctx)
	if err != nil {
		return fmt.Errorf("save %s: %w", s.path, err)
	}
	if err := s.write(snap); err != nil {
		return fmt.Errorf("save %s: %w", s.path, err)
	}
	s.saved = snap.version
	s.logger.Debug("embedded DynamoDB saved", "path", s.path, "tables", snap.counts.Tables, "items", snap.counts.Items, "took", time.Since(start).String())
	return nil
}

func (s *Store) write(snap snapshot) (err error) {
	f, err := os.CreateTemp(s.dir, "."+FileName+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	head, _ := json.Marshal(line{Format: format})
	end, _ := json.Marshal(line{End: &snap.counts})
	chunks := append(append([][]byte{head, {'\n'}}, snap.chunks...), end, []byte{'\n'})
	for _, c := range chunks {
		if _, err := w.Write(c); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), s.path); err != nil {
		return err
	}
	// The rename is durable once the directory is.
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Run saves every interval until ctx ends; a failed save is logged and
// tried again at the next tick.
func (s *Store) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Save(ctx); err != nil {
				s.logger.Error("embedded DynamoDB not saved", "error", err)
			}
		}
	}
}
