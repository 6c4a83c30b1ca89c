package embeddeddb_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/embeddeddb"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// scanAll returns every item of table as sorted strings.
func scanAll(t testing.TB, db *dynamodb.Client, table string) []string {
	t.Helper()
	var out []string
	for p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)}); p.HasMorePages(); {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(m))
		}
	}
	sort.Strings(out)
	return out
}

// TestStoreRoundTrip: what is saved loads back, indexes included, and a
// store without changes is not written again.
func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e, db := newDB(t, 1)
	s, err := embeddeddb.OpenStore(ctx, e, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		put(t, db, "items", withAttrs(key(fmt.Sprintf("p%d", i%7), fmt.Sprintf("s%d", i)), "n", num(i), "g", str("G"), "ord", num(i)))
		put(t, db, "records", map[string]types.AttributeValue{"pk": str(fmt.Sprintf("r%d", i)), "m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{num(1), str("x")}}}}})
	}
	if err := s.Save(ctx); err != nil {
		t.Fatal(err)
	}
	// A second round: some items change, one goes.
	put(t, db, "items", withAttrs(key("p1", "s1"), "n", num(1000)))
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("records"), Key: map[string]types.AttributeValue{"pk": str("r3")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.Stat(s.Path()); !again.ModTime().Equal(info.ModTime()) {
		t.Error("a store without changes was written again")
	}

	e2 := embeddeddb.New()
	if _, err := embeddeddb.OpenStore(ctx, e2, dir, quiet); err != nil {
		t.Fatal(err)
	}
	db2 := client(e2)
	for _, table := range []string{"items", "records"} {
		if got, want := scanAll(t, db2, table), scanAll(t, db, table); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s after loading:\n%v\nwant\n%v", table, got, want)
		}
	}
	if got, want := queryIndex(t, db2, "G"), queryIndex(t, db, "G"); fmt.Sprint(got) != fmt.Sprint(want) || len(want) != 49 {
		t.Errorf("index after loading %v, want %v (49)", got, want)
	}
}

// TestStoreRefusesABadFile: a file that is not a whole store stops the
// load with a message naming it, and is left exactly as it was.
func TestStoreRefusesABadFile(t *testing.T) {
	ctx := context.Background()
	good := func(t *testing.T) []byte {
		dir := t.TempDir()
		e, db := newDB(t, 1)
		s, err := embeddeddb.OpenStore(ctx, e, dir, quiet)
		if err != nil {
			t.Fatal(err)
		}
		put(t, db, "records", map[string]types.AttributeValue{"pk": str("r")})
		if err := s.Save(ctx); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		edit func([]byte) []byte
		want string
	}{
		{"empty", func([]byte) []byte { return nil }, "line 1"},
		{"not JSON", func([]byte) []byte { return []byte("\x00\x01garbage") }, "line 1"},
		{"another format", func(b []byte) []byte {
			return bytes.Replace(b, []byte("tollgate-embedded-dynamodb/1"), []byte("x/9"), 1)
		}, "format"},
		{"cut before its end", func(b []byte) []byte { return b[:bytes.LastIndex(b[:len(b)-1], []byte("\n"))+1] }, "incomplete"},
		{"cut mid-line", func(b []byte) []byte { return b[:len(b)-10] }, "line"},
		{"an item lost", func(b []byte) []byte {
			i := bytes.Index(b, []byte(`{"item"`))
			j := bytes.IndexByte(b[i:], '\n')
			return append(append([]byte{}, b[:i]...), b[i+j+1:]...)
		}, "counts"},
		{"an unknown field", func(b []byte) []byte { return bytes.Replace(b, []byte(`{"item"`), []byte(`{"what":1,"item"`), 1) }, "unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, embeddeddb.FileName)
			bad := tc.edit(good(t))
			if err := os.WriteFile(path, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := embeddeddb.OpenStore(ctx, embeddeddb.New(), dir, quiet)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one naming %s and saying %q", err, path, tc.want)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, bad) {
				t.Error("the file was changed")
			}
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, embeddeddb.FileName), 0o755); err != nil { // a directory in its place
			t.Fatal(err)
		}
		if _, err := embeddeddb.OpenStore(ctx, embeddeddb.New(), dir, quiet); err == nil {
			t.Fatal("no error")
		}
	})
}

// TestStoreSurvivesKill: a process saving as fast as it can while it
// writes, killed with SIGKILL at several moments, always leaves a file that
// loads, with everything it had saved (the writes of the last interval may
// be lost, never the file).
func TestStoreSurvivesKill(t *testing.T) {
	if dir := os.Getenv("EMBEDDEDDB_KILL_DIR"); dir != "" {
		killedWriter(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts processes")
	}
	ctx := context.Background()
	dir := t.TempDir()
	for round, after := range []time.Duration{150 * time.Millisecond, 400 * time.Millisecond, 250 * time.Millisecond, 700 * time.Millisecond} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStoreSurvivesKill$")
		cmd.Env = append(os.Environ(), "EMBEDDEDDB_KILL_DIR="+dir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(after)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		e := embeddeddb.New()
		if _, err := embeddeddb.OpenStore(ctx, e, dir, quiet); err != nil {
			t.Fatalf("round %d: after a kill -9: %v\n%s", round, err, out.String())
		}
		db := client(e)
		loaded := 0
		if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("records")}); err == nil {
			loaded = len(scanAll(t, db, "records")) // none before the first save
		}
		t.Logf("round %d: killed after %v, %d records loaded", round, after, loaded)
	}
	if stale, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(stale) > 1 {
		t.Errorf("temporary files left: %v", stale)
	}
}

// killedWriter loads dir (as the previous round left it) and writes
// records, saving after every batch, until it is killed.
func killedWriter(dir string) {
	ctx := context.Background()
	e := embeddeddb.New()
	s, err := embeddeddb.OpenStore(ctx, e, dir, quiet)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	db := client(e)
	if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("records")}); err != nil {
		if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String("records"), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		}); err != nil {
			fmt.Println("create:", err)
			os.Exit(3)
		}
	}
	pad := strings.Repeat("x", 200)
	for i := 0; ; i++ {
		for j := range 50 {
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("records"), Item: map[string]types.AttributeValue{
				"pk": str(fmt.Sprintf("%d-%d-%d", os.Getpid(), i, j)), "pad": str(pad),
			}}); err != nil {
				fmt.Println("put:", err)
				os.Exit(3)
			}
		}
		if err := s.Save(ctx); err != nil {
			fmt.Println("save:", err)
			os.Exit(3)
		}
	}
}
