package main

import (
	"context"
	"fmt"
	"net"
	"net/url"

	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
)

// demoOwner makes owner@<slug>.test an owner of the demo store (once; a
// kept DATA_DIR keeps it) and returns the address: make run's partner
// portal has someone to sign in as.
func demoOwner(ctx context.Context, stack *localenv.Stack, slug string) (string, error) {
	email := "owner@" + slug + ".test"
	st := dynamo.Store{DB: stack.DB, Tables: dynamo.Tables{Portal: stack.TableName("PortalTable")}}
	if _, err := portal.New(st, ratelimit.Limiter{}, nil, nil).AddMember(ctx, portal.Actor{Email: "make run", IP: "127.0.0.1"}, slug, email, portal.RoleOwner); err != nil {
		return "", fmt.Errorf("demo owner of %s: %w", slug, err)
	}
	return email, nil
}

// portalURL is the portal's address on base's port under the name
// localhost: passkeys need a domain name, and localhost is one browsers
// treat as secure over plain HTTP.
func portalURL(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base + "/portal/"
	}
	if _, port, err := net.SplitHostPort(u.Host); err == nil {
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
			u.Host = net.JoinHostPort("localhost", port)
		}
	}
	return u.String() + "/portal/"
}
