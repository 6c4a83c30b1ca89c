package catalog_test

import (
	"bytes"
	"context"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/logging"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/catalog"
	"github.com/tollgate-dev/tollgate/shared/ddbtest"
)

type logRT struct{ t *testing.T }

func (l logRT) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		l.t.Logf("%s err after %v: %v", r.Header.Get("X-Amz-Target"), time.Since(start), err)
		return resp, err
	}
	if bytes.Contains([]byte(r.Header.Get("X-Amz-Target")), []byte("Scan")) {
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		if bytes.Contains(b, []byte("LastEvaluatedKey")) {
			l.t.Logf("scan page: %.300s ... %s", b, b[max(0, len(b)-300):])
		}
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		l.t.Logf("%s status %d after %v: %s", r.Header.Get("X-Amz-Target"), resp.StatusCode, time.Since(start), b)
	}
	return resp, err
}

func TestZZDebug(t *testing.T) {
	for i := 0; i < 200; i++ {
		tr := ddbtest.NewTransport()
		tr.Base = &http.Client{Transport: logRT{t}}
		e := newEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{Transport: tr})
		f := sample(t)
		e.importFile(f)
		e.db = dynamodb.New(e.db.Options(), func(o *dynamodb.Options) {
			o.ClientLogMode = aws.LogRetries | aws.LogRequest
			o.Logger = logging.LoggerFunc(func(c logging.Classification, format string, v ...interface{}) {
				msg := fmt.Sprintf(format, v...)
				if strings.Contains(msg, "retry") || strings.Contains(msg, "Retry") || strings.Contains(msg, "attempt") {
					t.Logf("SDK %s: %.400s", c, msg)
				}
			})
		})
		for j := 0; j < 5; j++ {
			tr.Reset()
			if _, err := catalog.Diff(context.Background(), e.db, e.table, f); err != nil {
				t.Fatal(err)
			}
			if c := tr.Calls(); len(c) != 1 {
				t.Errorf("iter %d/%d calls %v", i, j, c)
			}
		}
	}
}
