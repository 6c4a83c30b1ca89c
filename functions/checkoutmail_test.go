package functions_test

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// emlFiles lists the .eml files of dir.
func emlFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// parsedMail is an .eml file read with net/mail and mime/multipart.
type parsedMail struct {
	Header      mail.Header
	Text, HTML  string
	Parts       []string // the parts' media types, in order
	ContentType string
}

func readEML(t *testing.T, path string) parsedMail {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := mail.ReadMessage(f)
	if err != nil {
		t.Fatalf("%s is not an RFC 5322 message: %v", path, err)
	}
	typ, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	out := parsedMail{Header: m.Header, ContentType: typ}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Header.Get("Content-Transfer-Encoding"); got != "quoted-printable" {
			t.Fatalf("part encoded %q, want quoted-printable", got)
		}
		b, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out.Parts = append(out.Parts, pt)
		switch pt {
		case "text/plain":
			out.Text = string(b)
		case "text/html":
			out.HTML = string(b)
		}
	}
	return out
}

var mailLinkRE = regexp.MustCompile(`https?://\S+/orders/\S+`)

// A purchase on the hosted cart sends the buyer one receipt: the
// dispatcher, run twice, keeps one .eml file (RFC 5322, multipart/
// alternative) holding the keys, the totals charged and a signed order
// link that opens the order through the router; make run's mailbox lists
// it and shows it readable.
func TestCheckoutReceiptEmail(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			dir := t.TempDir()
			site := newPagesSiteEnv(t, b, ddbtest.StackOptions{}, func(base string) map[string]string {
				return map[string]string{"MAIL_DIR": dir, "ORDER_LINK_BASE_URL": base}
			})
			c := browserClient(t)
			token, checkoutURL := site.session(t, `{"cart": {"WIN-11-PRO": 2}, "currency": "GBP", "locale": "en", "metadata": {"external_reference": "ref-mail-1"}}`)
			cart := fetch(t, c, http.MethodGet, checkoutURL, nil)
			expectPage(t, cart, http.StatusOK, "sent to this address")
			link, _ := pay(t, c, site, cart, url.Values{"token": {token}, "email": {"buyer@example.com"}, "country": {"GB"}}, "4242424242424242")
			order := fetch(t, c, http.MethodGet, site.URL+link, nil)
			keys := keyRE.FindAllStringSubmatch(order.Body, -1)
			if len(keys) != 2 {
				t.Fatalf("%d keys on the order page, want 2", len(keys))
			}
			job, err := site.env.Stack.Job("DispatchFunction", functions.Jobs)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second run finds the email sent
				if err := job(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			files := emlFiles(t, dir)
			if len(files) != 1 {
				t.Fatalf("%d emails kept, want 1 receipt: %v", len(files), files)
			}
			m := readEML(t, files[0])
			if m.ContentType != "multipart/alternative" || strings.Join(m.Parts, ",") != "text/plain,text/html" {
				t.Fatalf("content %s with parts %v, want multipart/alternative of text/plain and text/html", m.ContentType, m.Parts)
			}
			orderID := regexp.MustCompile(`ORD-[0-9A-Z]{12}`).FindString(link)
			to, err := m.Header.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Address != "buyer@example.com" {
				t.Fatalf("To %v (%v), want buyer@example.com", to, err)
			}
			from, err := m.Header.AddressList("From")
			if err != nil || len(from) != 1 || from[0].Name != "My Store" || from[0].Address != "receipts@tollgate.localhost" {
				t.Fatalf("From %v (%v)", from, err)
			}
			if rt, err := m.Header.AddressList("Reply-To"); err != nil || len(rt) != 1 || rt[0].Address != "support@my-store.example" {
				t.Fatalf("Reply-To %v (%v), want the store's support address", rt, err)
			}
			subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
			if subject != "My Store: receipt for order "+orderID {
				t.Fatalf("Subject %q", subject)
			}
			if _, err := m.Header.Date(); err != nil || !strings.HasPrefix(m.Header.Get("Message-Id"), "<email.store.my-store.order."+orderID+".email.receipt@") {
				t.Fatalf("Date (%v) or Message-Id %q", err, m.Header.Get("Message-Id"))
			}
			for _, part := range []string{m.Text, m.HTML} {
				for _, want := range []string{keys[0][1], keys[1][1], orderID, "Windows 11 Pro", "£59.98", "includes VAT 20%", "£10.00", "support@my-store.example"} {
					if !strings.Contains(part, want) {
						t.Errorf("a part lacks %q:\n%s", want, part)
					}
				}
			}
			// The order link works, fetched through the router.
			got := mailLinkRE.FindString(m.Text)
			if !strings.HasPrefix(got, site.URL+"/s/my-store/orders/"+orderID+"/?sig=") {
				t.Fatalf("order link %q", got)
			}
			linked := fetch(t, browserClient(t), http.MethodGet, got, nil)
			expectPage(t, linked, http.StatusOK, `data-status="fulfilled"`, keys[0][1], keys[1][1])

			// make run's mailbox lists it and shows it.
			box := localenv.MailHandler(dir, nil)
			list := httptest.NewRecorder()
			box.ServeHTTP(list, httptest.NewRequest(http.MethodGet, "/dev/mail/", nil))
			name := filepath.Base(files[0])
			if list.Code != http.StatusOK || !strings.Contains(list.Body.String(), `href="/dev/mail/`+name+`"`) {
				t.Fatalf("mailbox list %d:\n%s", list.Code, list.Body)
			}
			one := httptest.NewRecorder()
			box.ServeHTTP(one, httptest.NewRequest(http.MethodGet, "/dev/mail/"+name, nil))
			if one.Code != http.StatusOK || !strings.Contains(one.Body.String(), keys[0][1]) || !strings.Contains(one.Body.String(), `<a href="`+strings.ReplaceAll(got, "&", "&amp;")) {
				t.Fatalf("mailbox message %d:\n%s", one.Code, one.Body)
			}
		})
	}
}

// A DynamoDB fault (500, throttle, timeout, an answer lost after the
// write) at every call of the dispatcher's run that sends a receipt, the
// SDK's own retries off: the run fails or not, later runs (past the lease
// and the backoff) finish the work, and the buyer has exactly one receipt
// (none lost, none sent twice). Each case buys its own order on one site.
func TestCheckoutReceiptFaultSweep(t *testing.T) {
	b := ddbtest.Backends(t)[0] // the embedded engine: a case is a purchase and three runs
	dir := t.TempDir()
	tr := ddbtest.NewTransport()
	keys := make([]string, 600)
	for i := range keys {
		keys[i] = fmt.Sprintf("%q", fmt.Sprintf("SWEEP-%05d", i))
	}
	storesFile := []byte(`{"stores": [{"slug": "my-store", "name": "My Store", "apiKeys": ["sk_test_local_only_1"],
	  "products": [{"sku": "WIN-11-PRO", "name": "Windows 11 Pro", "prices": {"GBP": 2999}, "licenseKeys": [` + strings.Join(keys, ",") + `]}]}]}`)
	site := newPagesSiteEnv(t, b, ddbtest.StackOptions{Transport: tr, MaxAttempts: 1, Stores: storesFile}, func(base string) map[string]string {
		return map[string]string{"MAIL_DIR": dir, "ORDER_LINK_BASE_URL": base}
	})
	job, err := site.env.Stack.Job("DispatchFunction", functions.Jobs)
	if err != nil {
		t.Fatal(err)
	}
	buyers := 0
	// buy makes an order and answers its id; the dispatcher has sent the
	// events of every earlier order.
	buy := func(t *testing.T) string {
		t.Helper()
		buyers++
		c := browserClient(t)
		token, checkoutURL := site.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "GBP", "locale": "en"}`)
		cart := fetch(t, c, http.MethodGet, checkoutURL, nil)
		link, _ := pay(t, c, site, cart, url.Values{"token": {token}, "email": {fmt.Sprintf("buyer%d@example.com", buyers)}, "country": {"GB"}}, "4242424242424242")
		return regexp.MustCompile(`ORD-[0-9A-Z]{12}`).FindString(link)
	}
	receipts := func(orderID string) int {
		n := 0
		for _, f := range emlFiles(t, dir) {
			if strings.Contains(filepath.Base(f), orderID) {
				n++
			}
		}
		return n
	}
	// run runs the dispatcher with inject, then twice without faults,
	// each time past any lease and backoff.
	run := func(t *testing.T, inject func(call int, op string) ddbtest.Fault) {
		tr.Reset()
		tr.Inject(inject)
		_ = job(context.Background()) // a fault may fail the run
		tr.Inject(nil)
		for range 2 {
			site.clock.Add(int64(2 * time.Hour))
			if err := job(context.Background()); err != nil {
				t.Fatalf("a fault-free run: %v", err)
			}
		}
	}
	ref := buy(t)
	tr.Reset()
	if err := job(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls := tr.Calls()
	if receipts(ref) != 1 {
		t.Fatalf("the fault-free run kept %d receipts of %s, want 1", receipts(ref), ref)
	}
	t.Logf("the dispatcher's run makes %d DynamoDB calls: %v", len(calls), calls)
	ddbtest.Sweep(t, calls, func(t *testing.T, inject func(call int, op string) ddbtest.Fault) {
		id := buy(t)
		run(t, inject)
		if n := receipts(id); n != 1 {
			t.Fatalf("%d receipts of %s, want exactly 1", n, id)
		}
	})
}

// The same receipt in AWS's shape, on the moto backend: the dispatcher
// sends it with the real sesv2 client to moto_server's SES v2 (the sender
// an identity verified there), once; the event records SES's MessageId;
// another run sends nothing.
func TestCheckoutReceiptThroughSES(t *testing.T) {
	motoURL, ok := ddbtest.Moto(t)
	if !ok {
		t.Skip("moto_server is not installed")
	}
	ctx := context.Background()
	domain := fmt.Sprintf("shop%d.example", time.Now().UnixNano())
	client := sesv2.New(sesv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(motoURL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	if _, err := client.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)}); err != nil {
		t.Fatal(err)
	}
	// The dispatcher's SDK configuration, as Lambda's environment gives it.
	t.Setenv("AWS_ENDPOINT_URL_SESV2", motoURL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	site := newPagesSiteEnv(t, ddbtest.Backend{Name: "moto", Endpoint: motoURL}, ddbtest.StackOptions{}, func(base string) map[string]string {
		return map[string]string{"MAIL_FROM": "receipts@" + domain, "ORDER_LINK_BASE_URL": base}
	})
	c := browserClient(t)
	token, checkoutURL := site.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "GBP", "locale": "en"}`)
	cart := fetch(t, c, http.MethodGet, checkoutURL, nil)
	pay(t, c, site, cart, url.Values{"token": {token}, "email": {"ses-buyer@example.com"}, "country": {"GB"}}, "4242424242424242")
	job, err := site.env.Stack.Job("DispatchFunction", functions.Jobs)
	if err != nil {
		t.Fatal(err)
	}
	before := sesSent(t, motoURL)
	for range 2 {
		if err := job(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := sesSent(t, motoURL); got != before+1 {
		t.Fatalf("moto's SES sent %d messages, want 1", got-before)
	}
	box := outbox.Box{DB: site.env.Stack.DB, Table: site.env.Tables.Outbox}
	events, err := box.List(ctx, dynamo.Tuple(stores.EmailKind, "my-store"), "", 10)
	if err != nil || len(events) != 1 {
		t.Fatalf("email events %+v (%v)", events, err)
	}
	if ev := events[0]; ev.Status != outbox.StatusDelivered || ev.SentRef == "" || !ev.SendingAt.IsZero() || ev.Attempts != 1 {
		t.Fatalf("the receipt's event %+v: want delivered once with SES's MessageId", ev)
	}
}

// sesSent is how many messages moto's SES has sent (SES v1's
// GetSendQuota: moto's sesv2 has no count).
func sesSent(t *testing.T, motoURL string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, motoURL+"/", strings.NewReader("Action=GetSendQuota&Version=2010-12-01"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`<SentLast24Hours>([0-9.]+)</SentLast24Hours>`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("GetSendQuota answered %d: %s", resp.StatusCode, b)
	}
	n, _ := strconv.ParseFloat(string(m[1]), 64)
	return int(n)
}

// A refunded order's buyer gets the notice after the receipt: Stripe's
// payment success and then its refund, the dispatcher run once, two
// emails; the notice says the keys are revoked and shows none.
func TestCheckoutRefundNoticeEmail(t *testing.T) {
	dir := t.TempDir()
	site := newPagesSiteEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{}, func(base string) map[string]string {
		return map[string]string{"MAIL_DIR": dir, "ORDER_LINK_BASE_URL": base}
	})
	c := browserClient(t)
	token, checkoutURL := site.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "GBP", "locale": "de"}`)
	cart := fetch(t, c, http.MethodGet, checkoutURL, nil)
	p := fetch(t, c, http.MethodPost, site.URL+"/s/my-store/cart/",
		url.Values{"token": {token}, "email": {"refund@example.com"}, "country": {"GB"}, "csrf": {csrfOf(t, cart)}})
	expectPage(t, p, http.StatusSeeOther)
	orderID := strings.Split(strings.TrimPrefix(p.Header.Get("Location"), "/s/my-store/pay/"), "/")[0]
	sessionID, _, _ := strings.Cut(token, ".")
	meta := map[string]string{"tollgate_store": "my-store", "tollgate_order": orderID, "tollgate_session": sessionID}
	for i, ev := range []struct {
		typ string
		obj map[string]any
	}{
		{"payment_intent.succeeded", map[string]any{"id": "pi_mail", "object": "payment_intent", "amount": 2999, "amount_received": 2999, "currency": "gbp", "status": "succeeded", "metadata": meta}},
		{"charge.refunded", map[string]any{"id": "ch_mail", "object": "charge", "amount_refunded": 2999, "currency": "gbp", "payment_intent": site.paymentIntent(t, orderID), "metadata": meta}},
	} {
		if answer := site.stripeEvent(t, fmt.Sprintf("evt_mail_%d", i), ev.typ, ev.obj); !strings.Contains(answer, `"applied"`) {
			t.Fatalf("%s: %s", ev.typ, answer)
		}
	}
	job, err := site.env.Stack.Job("DispatchFunction", functions.Jobs)
	if err != nil {
		t.Fatal(err)
	}
	if err := job(context.Background()); err != nil {
		t.Fatal(err)
	}
	files := emlFiles(t, dir)
	if len(files) != 2 {
		t.Fatalf("%d emails, want the receipt and the notice: %v", len(files), files)
	}
	subjects := map[string]parsedMail{}
	for _, f := range files {
		m := readEML(t, f)
		s, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		subjects[s] = m
	}
	notice, ok := subjects["My Store: Erstattung der Bestellung "+orderID]
	if !ok {
		t.Fatalf("no refund notice among %v", subjects)
	}
	if _, ok := subjects["My Store: Beleg zur Bestellung "+orderID]; !ok {
		t.Fatalf("no receipt among %v", subjects)
	}
	for _, part := range []string{notice.Text, notice.HTML} {
		if !strings.Contains(part, "widerrufen") || !strings.Contains(part, "29,99\u00a0£") || keyRE.MatchString(part) || strings.Contains(part, "AAAAA-") {
			t.Errorf("the notice should say the keys are revoked, show the refund and no key:\n%s", part)
		}
	}
}
