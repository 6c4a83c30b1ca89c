package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Passkeys: discoverable credentials (resident keys) with user
// verification, so signing in asks for no address. Each member has one
// random user handle (the row ("handle", h) maps it back to the address);
// a ceremony's state lives in a TTL row between Begin and Finish, named by
// an id the page keeps in a cookie (the row is keyed by its digest) and
// consumed by Finish.

// RP is the relying party: the portal's origin as the browser sees it.
type RP struct {
	ID     string // the registrable domain, e.g. "portal.example.com" ("localhost" under make run)
	Origin string // e.g. "https://portal.example.com"
	Name   string // shown by the browser ("Tollgate partner portal")
}

// Passkey is one of a member's passkeys.
type Passkey struct {
	ID        string // the credential id, base64url
	Name      string
	CreatedAt time.Time
	LastUsed  time.Time // zero: never used to sign in
}

const (
	ceremonyRegister = "register"
	ceremonyLogin    = "login"
	maxNameLength    = 64
)

func (rp RP) webauthn() (*webauthn.WebAuthn, error) {
	name := rp.Name
	if name == "" {
		name = "Tollgate partner portal"
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: rp.ID, RPDisplayName: name, RPOrigins: []string{rp.Origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(), UserVerification: protocol.VerificationRequired},
		// The ceremony row's TTL and the injected clock bound a ceremony
		// (consumeCeremony); the options still tell the browser 5 minutes.
		Timeouts: webauthn.TimeoutsConfig{Login: webauthn.TimeoutConfig{Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL}}})
	if err != nil {
		return nil, fmt.Errorf("portal: relying party %q: %w", rp.ID, err)
	}
	return wa, nil
}

// user is a member as go-webauthn sees them.
type user struct {
	handle []byte
	email  string
	creds  []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.handle }
func (u *user) WebAuthnName() string                       { return u.email }
func (u *user) WebAuthnDisplayName() string                { return u.email }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// account reads email's handle and passkeys of relying party rpID (one
// Query); create makes the handle when there is none.
func (s *Service) account(ctx context.Context, email, rpID string, create bool) (*user, error) {
	items, err := s.queryAll(ctx, accountPK(email), "")
	if err != nil {
		return nil, err
	}
	u := &user{email: email}
	for _, it := range items {
		switch sk := dynamo.StringAttr(it[dynamo.AttrSK]); {
		case sk == skHandle:
			u.handle = dynamo.BytesAttr(it[attrHandle])
		case strings.HasPrefix(sk, dynamo.Tuple("passkey")) && dynamo.StringAttr(it[attrRP]) == rpID:
			var c webauthn.Credential
			if err := json.Unmarshal(dynamo.BytesAttr(it[attrCred]), &c); err != nil {
				return nil, fmt.Errorf("portal: passkey row of a member: %w", err)
			}
			u.creds = append(u.creds, c)
		}
	}
	if u.handle != nil || !create {
		return u, nil
	}
	h := []byte(newToken())[:32] // 32 random base64url characters: opaque, no address in it
	err = s.st.Transact(ctx, []types.TransactWriteItem{
		dynamo.PutNewOp(s.table(), item{dynamo.AttrPK: dynamo.S(accountPK(email)), dynamo.AttrSK: dynamo.S(skHandle), attrHandle: dynamo.B(h)}),
		dynamo.PutNewOp(s.table(), item{dynamo.AttrPK: dynamo.S(handlePK(h)), dynamo.AttrSK: dynamo.S(skHandle), attrEmail: dynamo.S(email)}),
	})
	var failed *dynamo.ConditionFailedError
	if errors.As(err, &failed) {
		return s.account(ctx, email, rpID, false) // made meanwhile by another ceremony
	}
	if err != nil {
		return nil, fmt.Errorf("portal: make a user handle: %w", err)
	}
	u.handle = h
	return u, nil
}

// ceremony stores sd as a ceremony of kind for email ("" for a login) and
// answers its id.
func (s *Service) ceremony(ctx context.Context, kind, email string, rp RP, sd *webauthn.SessionData) (string, error) {
	raw, err := json.Marshal(sd)
	if err != nil {
		return "", fmt.Errorf("portal: ceremony state: %w", err)
	}
	id := newToken()
	now := s.now()
	_, err = s.st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table()), Item: item{
		dynamo.AttrPK: dynamo.S(ceremonyPK(digest(skCeremony, id))), dynamo.AttrSK: dynamo.S(skCeremony),
		attrKind: dynamo.S(kind), attrEmail: dynamo.S(email), attrRP: dynamo.S(rp.ID), attrSession: dynamo.B(raw),
		dynamo.AttrCreatedAt: dynamo.Time(now), dynamo.AttrExpiresAt: dynamo.N(epoch(now.Add(CeremonyTTL))),
	}})
	if err != nil {
		return "", fmt.Errorf("portal: store a ceremony: %w", err)
	}
	return id, nil
}

// consumeCeremony deletes ceremony id and answers its state when it is of
// kind, for email and rp, and not expired; ErrCeremony otherwise (a
// ceremony is used once, whatever its outcome).
func (s *Service) consumeCeremony(ctx context.Context, id, kind, email string, rp RP) (webauthn.SessionData, error) {
	if id == "" || len(id) > maxTokenLength {
		return webauthn.SessionData{}, ErrCeremony
	}
	out, err := s.st.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table()),
		Key: dynamo.PKSK(ceremonyPK(digest(skCeremony, id)), skCeremony), ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return webauthn.SessionData{}, fmt.Errorf("portal: read a ceremony: %w", err)
	}
	it := out.Attributes
	exp, _ := dynamo.IntAttr(it[dynamo.AttrExpiresAt])
	if it == nil || dynamo.StringAttr(it[attrKind]) != kind || dynamo.StringAttr(it[attrEmail]) != email ||
		dynamo.StringAttr(it[attrRP]) != rp.ID || !s.now().Before(time.Unix(exp, 0)) {
		return webauthn.SessionData{}, ErrCeremony
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(dynamo.BytesAttr(it[attrSession]), &sd); err != nil {
		return webauthn.SessionData{}, fmt.Errorf("portal: ceremony state: %w", err)
	}
	return sd, nil
}

// BeginPasskeyRegistration starts adding a passkey to sess's member: the
// options for navigator.credentials.create (JSON of
// protocol.CredentialCreation: {"publicKey": ...}) and the ceremony's id.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, sess Session, rp RP) ([]byte, string, error) {
	wa, err := rp.webauthn()
	if err != nil {
		return nil, "", err
	}
	u, err := s.account(ctx, sess.Email, rp.ID, true)
	if err != nil {
		return nil, "", err
	}
	creation, sd, err := wa.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()))
	if err != nil {
		return nil, "", fmt.Errorf("portal: begin a passkey registration: %w", err)
	}
	opts, err := json.Marshal(creation)
	if err != nil {
		return nil, "", err
	}
	id, err := s.ceremony(ctx, ceremonyRegister, sess.Email, rp, sd)
	if err != nil {
		return nil, "", err
	}
	return opts, id, nil
}

// FinishPasskeyRegistration verifies the browser's answer body (the JSON
// of the PublicKeyCredential) to ceremony ceremonyID and keeps the passkey
// under name. ErrCeremony, ErrName; ErrPasskey when the answer is not
// accepted.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, sess Session, rp RP, ceremonyID, name string, body []byte) (Passkey, error) {
	name, err := checkName(name)
	if err != nil {
		return Passkey{}, err
	}
	wa, err := rp.webauthn()
	if err != nil {
		return Passkey{}, err
	}
	sd, err := s.consumeCeremony(ctx, ceremonyID, ceremonyRegister, sess.Email, rp)
	if err != nil {
		return Passkey{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return Passkey{}, fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	u, err := s.account(ctx, sess.Email, rp.ID, false)
	if err != nil {
		return Passkey{}, err
	}
	cred, err := wa.CreateCredential(u, sd, parsed)
	if err != nil {
		return Passkey{}, fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return Passkey{}, err
	}
	now := s.now()
	p := Passkey{ID: b64(cred.ID), Name: name, CreatedAt: now}
	err = s.st.Transact(ctx, []types.TransactWriteItem{dynamo.PutNewOp(s.table(), item{
		dynamo.AttrPK: dynamo.S(accountPK(sess.Email)), dynamo.AttrSK: dynamo.S(passkeySK(p.ID)),
		attrCred: dynamo.B(raw), attrRP: dynamo.S(rp.ID), attrName: dynamo.S(name), dynamo.AttrCreatedAt: dynamo.Time(now),
	})})
	var failed *dynamo.ConditionFailedError
	if errors.As(err, &failed) {
		return Passkey{}, fmt.Errorf("%w: this passkey is registered already", ErrPasskey)
	}
	if err != nil {
		return Passkey{}, fmt.Errorf("portal: store a passkey: %w", err)
	}
	return p, nil
}

// BeginPasskeyLogin starts a sign-in with a passkey: the options for
// navigator.credentials.get (JSON of protocol.CredentialAssertion; no
// allowed credentials: the browser offers the site's passkeys) and the
// ceremony's id.
func (s *Service) BeginPasskeyLogin(ctx context.Context, rp RP) ([]byte, string, error) {
	wa, err := rp.webauthn()
	if err != nil {
		return nil, "", err
	}
	assertion, sd, err := wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", fmt.Errorf("portal: begin a passkey sign-in: %w", err)
	}
	opts, err := json.Marshal(assertion)
	if err != nil {
		return nil, "", err
	}
	id, err := s.ceremony(ctx, ceremonyLogin, "", rp, sd)
	if err != nil {
		return nil, "", err
	}
	return opts, id, nil
}

// FinishPasskeyLogin verifies the browser's assertion body to ceremony
// ceremonyID, records the passkey's use (its signature counter) and
// starts a session, the sign-in recorded in every store of the member.
// ErrCeremony; ErrPasskey for an assertion not accepted (an unknown
// passkey included).
func (s *Service) FinishPasskeyLogin(ctx context.Context, rp RP, ceremonyID string, body []byte, ip string) (string, Session, error) {
	wa, err := rp.webauthn()
	if err != nil {
		return "", Session{}, err
	}
	sd, err := s.consumeCeremony(ctx, ceremonyID, ceremonyLogin, "", rp)
	if err != nil {
		return "", Session{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return "", Session{}, fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	var who *user
	handler := func(_, userHandle []byte) (webauthn.User, error) {
		it, err := s.get(ctx, dynamo.PKSK(handlePK(userHandle), skHandle))
		if err != nil {
			return nil, err
		}
		if it == nil {
			return nil, ErrPasskey
		}
		who, err = s.account(ctx, dynamo.StringAttr(it[attrEmail]), rp.ID, false)
		if err != nil {
			return nil, err
		}
		if string(who.handle) != string(userHandle) {
			return nil, ErrPasskey
		}
		return who, nil
	}
	_, cred, err := wa.ValidatePasskeyLogin(handler, sd, parsed)
	if err != nil {
		return "", Session{}, fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return "", Session{}, err
	}
	now := s.now()
	token, sess, ops, err := s.signInOps(ctx, who.email, MethodPasskey, ip, now)
	if err != nil {
		return "", Session{}, err
	}
	// The passkey row is updated in the sign-in's transaction, conditional
	// on it still being there: a passkey removed meanwhile signs nobody in.
	use := dynamo.UpdateOp(s.table(), dynamo.PKSK(accountPK(who.email), passkeySK(b64(cred.ID))),
		expression.Set(expression.Name(attrCred), expression.Value(dynamo.B(raw))).Set(expression.Name(attrLastUsed), expression.Value(dynamo.Time(now))),
		dynamo.Cond(dynamo.Exists()))
	err = s.transactChunks(ctx, append([]types.TransactWriteItem{use}, ops...))
	var failed *dynamo.ConditionFailedError
	if errors.As(err, &failed) && failed.Failed(0) {
		return "", Session{}, fmt.Errorf("%w: the passkey was removed", ErrPasskey)
	}
	if err != nil {
		return "", Session{}, fmt.Errorf("portal: sign in with a passkey: %w", err)
	}
	return token, sess, nil
}

// Passkeys lists email's passkeys (of every relying party), oldest first.
func (s *Service) Passkeys(ctx context.Context, email string) ([]Passkey, error) {
	items, err := s.queryAll(ctx, accountPK(email), dynamo.Tuple("passkey"))
	if err != nil {
		return nil, err
	}
	out := make([]Passkey, 0, len(items))
	for _, it := range items {
		parts, err := dynamo.SplitTuple(dynamo.StringAttr(it[dynamo.AttrSK]))
		if err != nil || len(parts) != 2 {
			return nil, fmt.Errorf("portal: passkey row of a member has a malformed sort key")
		}
		created, _ := dynamo.TimeAttr(it[dynamo.AttrCreatedAt])
		used, _ := dynamo.TimeAttr(it[attrLastUsed])
		out = append(out, Passkey{ID: parts[1], Name: dynamo.StringAttr(it[attrName]), CreatedAt: created, LastUsed: used})
	}
	sortPasskeys(out)
	return out, nil
}

func sortPasskeys(ps []Passkey) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].CreatedAt.Before(ps[j-1].CreatedAt); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// RenamePasskey names email's passkey id. ErrNoPasskey, ErrName.
func (s *Service) RenamePasskey(ctx context.Context, email, id, name string) error {
	name, err := checkName(name)
	if err != nil {
		return err
	}
	err = s.st.Transact(ctx, []types.TransactWriteItem{dynamo.UpdateOp(s.table(), dynamo.PKSK(accountPK(email), passkeySK(id)),
		expression.Set(expression.Name(attrName), expression.Value(name)), dynamo.Cond(dynamo.Exists()))})
	return passkeyErr(err)
}

// RemovePasskey deletes email's passkey id: it signs nobody in from now.
// ErrNoPasskey when there is none.
func (s *Service) RemovePasskey(ctx context.Context, email, id string) error {
	err := s.st.Transact(ctx, []types.TransactWriteItem{dynamo.DeleteOp(s.table(), dynamo.PKSK(accountPK(email), passkeySK(id)), dynamo.Cond(dynamo.Exists()))})
	return passkeyErr(err)
}

func passkeyErr(err error) error {
	var failed *dynamo.ConditionFailedError
	if errors.As(err, &failed) {
		return ErrNoPasskey
	}
	if err != nil {
		return fmt.Errorf("portal: change a passkey: %w", err)
	}
	return nil
}

// checkName trims a passkey's name and checks it has 1-64 characters and
// no control characters.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxNameLength ||
		strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", ErrName
	}
	return name, nil
}
