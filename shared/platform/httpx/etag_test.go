package httpx

import "testing"

func TestETag(t *testing.T) {
	// sha256("") = e3b0c442 98fc1c14 9afbf4c8 996fb924 ...
	if got, want := ETag(nil), `"47DEQpj8HBSa-_TImW-5JA"`; got != want {
		t.Errorf("ETag(nil) = %s, want %s", got, want)
	}
	if ETag([]byte("a")) == ETag([]byte("b")) {
		t.Error("two bodies share an ETag")
	}
}

func TestNoneMatch(t *testing.T) {
	const etag = `"abc"`
	tests := []struct {
		name, header string
		want         bool
	}{
		{"absent", "", false},
		{"strong", `"abc"`, true},
		{"weak", `W/"abc"`, true},
		{"another tag", `"abd"`, false},
		{"unquoted", `abc`, false},
		{"star", `*`, true},
		{"star with spaces", ` * `, true},
		{"list, match last", `"x", W/"y", "abc"`, true},
		{"list, weak match first", `W/"abc","x"`, true},
		{"list without match", `"x", W/"y"`, false},
		{"lower-case weak prefix is no prefix", `w/"abc"`, false},
		{"empty items", `,,`, false},
	}
	for _, tt := range tests {
		if got := NoneMatch(tt.header, etag); got != tt.want {
			t.Errorf("%s: NoneMatch(%q, %s) = %v, want %v", tt.name, tt.header, etag, got, tt.want)
		}
	}
}
