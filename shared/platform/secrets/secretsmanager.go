package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// SecretsManagerAPI is the part of the Secrets Manager client Tollgate uses:
// this source, merchants' PSP credentials (shared/payments) and stores'
// webhook secrets (shared/platform/delivery) read through it.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Defaults of the Secrets Manager cache.
const (
	DefaultTTL             = 5 * time.Minute
	DefaultRefreshInterval = 30 * time.Second
)

// SecretsManager is a Source reading one JSON secret. It caches the AWSCURRENT
// and AWSPREVIOUS versions for TTL; while a rotation is under way both are
// accepted, so a caller still using the old key is not refused. When the
// secret cannot be read and an earlier copy exists, the earlier copy keeps
// serving (and the error is reported to OnError) rather than failing every
// request.
type SecretsManager struct {
	client   SecretsManagerAPI
	secretID string
	ttl      time.Duration
	minGap   time.Duration
	now      func() time.Time
	onError  func(error)

	mu        sync.Mutex
	current   map[Name]string
	previous  map[Name]string
	fetchedAt time.Time
	loaded    bool
}

// SecretsManagerOption configures a SecretsManager source.
type SecretsManagerOption func(*SecretsManager)

// WithTTL sets how long a read secret is trusted.
func WithTTL(d time.Duration) SecretsManagerOption { return func(s *SecretsManager) { s.ttl = d } }

// WithRefreshInterval sets the least time between two reads forced by Refresh.
func WithRefreshInterval(d time.Duration) SecretsManagerOption {
	return func(s *SecretsManager) { s.minGap = d }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) SecretsManagerOption {
	return func(s *SecretsManager) { s.now = now }
}

// WithErrorHandler receives read failures that were answered from the cache.
func WithErrorHandler(f func(error)) SecretsManagerOption {
	return func(s *SecretsManager) { s.onError = f }
}

// NewSecretsManager returns a source for the secret secretID (name or ARN).
func NewSecretsManager(client SecretsManagerAPI, secretID string, opts ...SecretsManagerOption) *SecretsManager {
	s := &SecretsManager{
		client:   client,
		secretID: secretID,
		ttl:      DefaultTTL,
		minGap:   DefaultRefreshInterval,
		now:      time.Now,
		onError:  func(error) {},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Values implements Source.
func (s *SecretsManager) Values(ctx context.Context, name Name) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded || s.now().Sub(s.fetchedAt) >= s.ttl {
		if err := s.fetchLocked(ctx); err != nil {
			if !s.loaded {
				return nil, err
			}
			s.onError(err)
		}
	}
	var out []string
	if v := s.current[name]; v != "" {
		out = append(out, v)
	}
	if v := s.previous[name]; v != "" && v != s.current[name] {
		out = append(out, v)
	}
	return out, nil
}

// Refresh implements Refresher.
func (s *SecretsManager) Refresh(ctx context.Context) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded && s.now().Sub(s.fetchedAt) < s.minGap {
		return false, nil
	}
	if err := s.fetchLocked(ctx); err != nil {
		return false, err
	}
	return true, nil
}

func (s *SecretsManager) fetchLocked(ctx context.Context) error {
	current, err := s.read(ctx, "AWSCURRENT")
	if err != nil {
		// Stamp the failed attempt too, so an outage is not hammered by
		// every request; the old copy (if any) keeps serving.
		s.fetchedAt = s.now()
		return err
	}
	previous, err := s.read(ctx, "AWSPREVIOUS")
	var notFound *smtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		previous = nil // never rotated
	case err != nil:
		s.fetchedAt = s.now()
		return err
	}
	s.current, s.previous = current, previous
	s.fetchedAt = s.now()
	s.loaded = true
	return nil
}

func (s *SecretsManager) read(ctx context.Context, stage string) (map[Name]string, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:     aws.String(s.secretID),
		VersionStage: aws.String(stage),
	})
	if err != nil {
		return nil, fmt.Errorf("read secret %s (%s): %w", s.secretID, stage, err)
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("read secret %s (%s): no SecretString", s.secretID, stage)
	}
	var fields map[Name]string
	if err := json.Unmarshal([]byte(*out.SecretString), &fields); err != nil {
		// encoding/json's error text can quote part of the value: leave it out.
		return nil, fmt.Errorf("secret %s (%s) is not a JSON object of strings", s.secretID, stage)
	}
	return fields, nil
}
