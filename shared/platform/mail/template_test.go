package mail_test

import (
	"fmt"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/mail"
)

func TestWithName(t *testing.T) {
	for _, c := range []struct{ name, addr, want string }{
		{"Shop", "a@b.example", `"Shop" <a@b.example>`},
		{`Jo "the" \ Shop`, "a@b.example", `"Jo \"the\" \\ Shop" <a@b.example>`},
		{"", "a@b.example", "a@b.example"},
		{"Shop", "Other <a@b.example>", "Other <a@b.example>"},
	} {
		if got := mail.WithName(c.name, c.addr); got != c.want {
			t.Errorf("WithName(%q, %q) = %q, want %q", c.name, c.addr, got, c.want)
		}
	}
}

// FromEnv: MAIL_DIR keeps files (from MAIL_FROM, else the local sender);
// MAIL_FROM alone is SES; neither is no sender; a bad address is refused.
func TestFromEnv(t *testing.T) {
	ctx := t.Context()
	for _, c := range []struct {
		env      map[string]string
		sender   string
		from     string
		wantsErr bool
	}{
		{map[string]string{"MAIL_DIR": "/tmp/m"}, "mail.Dir", "local@x.localhost", false},
		{map[string]string{"MAIL_DIR": "/tmp/m", "MAIL_FROM": "p@example.com"}, "mail.Dir", "p@example.com", false},
		{map[string]string{"MAIL_FROM": "p@example.com"}, "mail.SES", "p@example.com", false},
		{map[string]string{}, "<nil>", "", false},
		{map[string]string{"MAIL_FROM": "not an address"}, "", "", true},
	} {
		s, from, err := mail.FromEnv(ctx, func(k string) string { return c.env[k] }, nil, nil, "local@x.localhost")
		if got := fmt.Sprintf("%T", s); (err != nil) != c.wantsErr || (!c.wantsErr && (got != c.sender || from != c.from)) {
			t.Errorf("%v: %s %q %v", c.env, got, from, err)
		}
	}
}
