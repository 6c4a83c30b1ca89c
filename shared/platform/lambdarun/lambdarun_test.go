package lambdarun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

// One entry serves the schedule's event and the stream's batches: a batch
// hands over the keys of its INSERT records only; an error fails it.
func TestJobAndStreamEntry(t *testing.T) {
	var jobs int
	var keys [][]string
	entry := lambdarun.JobAndStreamEntry("f", slog.New(slog.DiscardHandler),
		func(context.Context) error { jobs++; return nil },
		func(_ context.Context, k []string) error {
			keys = append(keys, k)
			if len(k) == 0 {
				return fmt.Errorf("nothing new")
			}
			return nil
		})
	ctx := context.Background()
	for _, tc := range []struct {
		event   string
		jobs    int
		keys    string
		wantErr bool
	}{
		{`{"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": {}}`, 1, "[]", false},
		{`{"Records": [{"eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"pk": {"S": "a"}}}},
			{"eventName": "MODIFY", "eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"pk": {"S": "b"}}}},
			{"eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"pk": {"S": "c"}}}}]}`, 1, "[[a c]]", false},
		{`{"Records": [{"eventName": "REMOVE", "eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"pk": {"S": "a"}}}}]}`, 1, "[[a c] []]", true},
		{`{"Records": [{"eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"pk": {"N": 1}}}}]}`, 1, "[[a c] []]", true},
	} {
		err := entry(ctx, json.RawMessage(tc.event))
		if (err != nil) != tc.wantErr || jobs != tc.jobs || fmt.Sprint(keys) != tc.keys {
			t.Errorf("%s: err %v, jobs %d, keys %v; want error %v, jobs %d, keys %s", tc.event, err, jobs, keys, tc.wantErr, tc.jobs, tc.keys)
		}
	}
}

// FuzzJobAndStreamEntry: whatever an invocation's payload, the entry
// answers (an error at worst) and hands the stream only INSERT records'
// string keys.
func FuzzJobAndStreamEntry(f *testing.F) {
	for _, seed := range []string{`{}`, `null`, `[]`, `{"Records": []}`, `{"Records": [{"eventSource": "aws:dynamodb"}]}`,
		`{"Records": [{"eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"pk": {"S": "x"}}}}]}`,
		`{"Records": [{"eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"pk": {"B": "AA=="}}}}]}`,
		`{"Records": [{"eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"pk": {"S": 1}}}}]}`, `{"Records": 5}`, `{"detail": 5}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		entry := lambdarun.JobAndStreamEntry("f", slog.New(slog.DiscardHandler),
			func(context.Context) error { return nil },
			func(_ context.Context, keys []string) error {
				if !lambdarun.IsStreamEvent(raw) {
					t.Fatalf("stream work called for %q", raw)
				}
				return nil
			})
		_ = entry(context.Background(), json.RawMessage(raw))
	})
}

// A scheduled run's own line is at Debug, at Error when the job failed: a
// schedule that finds nothing to do writes nothing at Info.
func TestJobEntryLevel(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{{nil, "DEBUG"}, {errors.New("table gone"), "ERROR"}} {
		var buf bytes.Buffer
		logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		err := lambdarun.JobEntry("f", logger, func(context.Context) error { return tc.err })(context.Background(), events.EventBridgeEvent{ID: "x"})
		var line struct{ Level, Msg string }
		if jerr := json.Unmarshal(buf.Bytes(), &line); jerr != nil || line.Level != tc.want || line.Msg != "run" || !errors.Is(err, tc.err) {
			t.Errorf("job error %v: logged %q (%v), returned %v; want one %s line \"run\"", tc.err, buf.String(), jerr, err, tc.want)
		}
	}
}
