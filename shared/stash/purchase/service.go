package purchase

import (
	"errors"
	"log/slog"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/retry"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
)

// EnvReservationTTL is how long a registration holds its units (Go
// duration; default DefaultReservationTTL).
const EnvReservationTTL = "RESERVATION_TTL"

// DefaultReservationTTL is how long a registration holds its units.
const DefaultReservationTTL = 30 * time.Minute

// Service runs the purchase flows against the transactions, catalog and
// players tables.
type Service struct {
	Store          dynamo.Store
	Catalog        *catalog.Cache
	ReservationTTL time.Duration
	Now            func() time.Time
	Log            *slog.Logger
}

// New builds the service of a function from its dependencies, its catalog
// loaded: the one way every purchase function gets it.
func New(d deps.Deps) (*Service, error) {
	cache, err := catalog.New(d)
	if err != nil {
		return nil, err
	}
	reservation, err := d.Duration(EnvReservationTTL, DefaultReservationTTL)
	if err != nil {
		return nil, err
	}
	return &Service{Store: d.Store, Catalog: cache, ReservationTTL: reservation, Now: d.Now, Log: d.Logger}, nil
}

// Reasons a purchase is refused (the Reason of a *refusal.Error).
var (
	// ErrAlreadyConfirmed: the transaction was confirmed with other items
	// or for another player.
	ErrAlreadyConfirmed = errors.New("transaction already confirmed differently")
	// ErrRefunded: the purchase was refunded before it was granted; it
	// never will be.
	ErrRefunded = errors.New("purchase refunded before it was granted")
	// ErrOtherPlayer: the transaction was registered for another player.
	ErrOtherPlayer = errors.New("transaction belongs to another player")
	// ErrItemsMismatch: the items are not those the transaction registered.
	ErrItemsMismatch = errors.New("items do not match the registration")
	// ErrUnknownProducts: a paid purchase names products the catalog lacks.
	ErrUnknownProducts = errors.New("unknown products")
	// ErrLimitReached: the player's per-player limit would be passed.
	ErrLimitReached = errors.New("per-player limit reached")
	// ErrSoldOut: not enough units are left.
	ErrSoldOut = errors.New("not enough units left")
	// ErrTransactionReused: an authorization's transactionId was used for
	// a different purchase.
	ErrTransactionReused = errors.New("transactionId used for a different purchase")
	// ErrMalformedEvent: a webhook delivery that cannot be decoded.
	ErrMalformedEvent = errors.New("malformed webhook event")
)

// Failures a fresh attempt cures: the step read state that changed before
// its conditional write.
var (
	// errStaleCatalog: a transaction failed on an assumption taken from the
	// cached catalog; the cache was invalidated.
	errStaleCatalog = errors.New("cached catalog out of date")
	// errRecordChanged: the purchase record (or a holding) changed between
	// the step's read and its write.
	errRecordChanged = errors.New("purchase record changed concurrently")
)

// Retry policies of the steps. None waits: the next attempt reads fresh
// state (TransactionConflicts are retried with back-off by dynamo.Transact).
// Each retry follows a race that the winner has settled, so one or two more
// attempts almost always end it; the bounds only stop a livelock. A refund
// re-reads the player's holdings as well as the record, which players
// spending items move more often, so it gets one more.
var (
	registerRetry = retry.Policy{Attempts: 3, Retryable: retry.On(errStaleCatalog)}
	changeRetry   = retry.Policy{Attempts: 4, Retryable: retry.On(errStaleCatalog, errRecordChanged)}
	refundRetry   = retry.Policy{Attempts: 5, Retryable: retry.On(errRecordChanged)}
)
