package failure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
)

func TestClientGone(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), 0)
	defer cancel2()
	<-expired.Done()
	callFailed := fmt.Errorf("get item: %w", context.Canceled)
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"client gone, call failed", cancelled, callFailed, true},
		{"client gone, other failure", cancelled, errors.New("dynamodb: 500"), true},
		{"client gone, no failure", cancelled, nil, false},
		{"client here, call failed", context.Background(), callFailed, false},
		{"deadline passed: ours, not the client's", expired, callFailed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClientGone(tt.ctx, tt.err); got != tt.want {
				t.Errorf("ClientGone = %v, want %v", got, tt.want)
			}
			if lvl := Level(tt.ctx, tt.err); (lvl == slog.LevelInfo) != tt.want || (lvl != slog.LevelInfo && lvl != slog.LevelError) {
				t.Errorf("Level = %v, want INFO only when the client is gone", lvl)
			}
		})
	}
}
