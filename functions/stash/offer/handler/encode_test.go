package handler

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
)

func TestOfferResponse(t *testing.T) {
	at := time.Date(2026, 11, 21, 12, 0, 0, 5, time.UTC)
	got, _ := json.Marshal(offerResponse(catalog.Product{ProductID: "a", GUID: "g", Name: "A", Description: "d", ImageURL: "https://x/a.png", UpdatedAt: at}))
	want := `{"items":[{"guid":"g","title":{"defaultText":"A"},"description":{"defaultText":"d"},"image":"https://x/a.png","lastUpdatedAt":"2026-11-21T12:00:00.000000005Z"}]}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got, _ = json.Marshal(offerResponse(catalog.Product{ProductID: "a", Name: "A"}))
	if want := `{"items":[{"title":{"defaultText":"A"}}]}`; string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
