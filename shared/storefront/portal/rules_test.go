package portal_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
)

func TestParseRole(t *testing.T) {
	for _, c := range []struct {
		in   string
		want portal.Role
		err  error
	}{
		{"owner", portal.RoleOwner, nil}, {"developer", portal.RoleDeveloper, nil}, {"support", portal.RoleSupport, nil},
		{"Owner", "", portal.ErrRole}, {"", "", portal.ErrRole}, {"admin", "", portal.ErrRole}, {"owner ", "", portal.ErrRole},
	} {
		got, err := portal.ParseRole(c.in)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a@b.example", "a@b.example"}, {"  A@B.Example ", "a@b.example"},
		{"", ""}, {"a", ""}, {"A <a@b.example>", ""}, {"a@b.example\n", "a@b.example"}, {"a@b.example\r\nBcc: x@y", ""},
		{strings.Repeat("a", 250) + "@b.example", ""},
	} {
		got, err := portal.NormalizeEmail(c.in)
		if got != c.want || (c.want == "") != errors.Is(err, portal.ErrEmail) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestSessionRules(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		s       portal.Session
		now     time.Time
		recent  bool
		expires time.Time
	}{
		{"fresh", portal.Session{CreatedAt: t0, AuthAt: t0, LastSeen: t0}, t0, true, t0.Add(portal.SessionIdle)},
		{"9m59s", portal.Session{CreatedAt: t0, AuthAt: t0, LastSeen: t0}, t0.Add(10*time.Minute - time.Second), true, t0.Add(portal.SessionIdle)},
		{"10m", portal.Session{CreatedAt: t0, AuthAt: t0, LastSeen: t0}, t0.Add(10 * time.Minute), false, t0.Add(portal.SessionIdle)},
		{"idle capped by the absolute end", portal.Session{CreatedAt: t0, AuthAt: t0, LastSeen: t0.Add(11 * time.Hour)}, t0.Add(11 * time.Hour), false, t0.Add(portal.SessionMax)},
	} {
		if got := c.s.Recent(c.now); got != c.recent {
			t.Errorf("%s: Recent = %v", c.name, got)
		}
		if got := c.s.Expires(); !got.Equal(c.expires) {
			t.Errorf("%s: Expires = %v, want %v", c.name, got, c.expires)
		}
	}
}
