package refusal

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorIsItsReasonAndSaysWhy(t *testing.T) {
	errSoldOut := errors.New("sold out")
	errOther := errors.New("other")
	err := fmt.Errorf("confirm t1: %w", New(errSoldOut, "not enough units of %s left", "gem"))
	if !errors.Is(err, errSoldOut) || errors.Is(err, errOther) {
		t.Fatalf("errors.Is: got %v for its reason and %v for another", errors.Is(err, errSoldOut), errors.Is(err, errOther))
	}
	var r *Error
	if !errors.As(err, &r) || r.Message != "not enough units of gem left" || r.Error() != r.Message {
		t.Fatalf("errors.As: %#v", r)
	}
}
