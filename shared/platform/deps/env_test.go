package deps

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestSettings(t *testing.T) {
	env := map[string]string{
		"DUR": " 90s ", "DUR_ZERO": "0s", "DUR_NEG": "-1m", "DUR_BAD": "soon",
		"INT": "12", "INT_ZERO": "0", "INT_BAD": "x",
		"MODE": "webhook", "MODE_BAD": "other",
		"BOOL": "FALSE", "BOOL_BAD": "yes",
		"STR": " shop-1 ",
	}
	d := Deps{Getenv: func(k string) string { return env[k] }}
	tests := []struct {
		name    string
		read    func() (any, error)
		want    any
		wantErr string // substring naming the setting; "" means no error
	}{
		{"duration", func() (any, error) { return d.Duration("DUR", time.Second) }, 90 * time.Second, ""},
		{"duration unset", func() (any, error) { return d.Duration("NONE", time.Second) }, time.Second, ""},
		{"duration zero", func() (any, error) { return d.Duration("DUR_ZERO", time.Second) }, nil, "DUR_ZERO"},
		{"duration negative", func() (any, error) { return d.Duration("DUR_NEG", time.Second) }, nil, "DUR_NEG"},
		{"duration garbage", func() (any, error) { return d.Duration("DUR_BAD", time.Second) }, nil, "DUR_BAD"},
		{"positive int", func() (any, error) { return d.PositiveInt("INT", 5) }, 12, ""},
		{"positive int unset", func() (any, error) { return d.PositiveInt("NONE", 5) }, 5, ""},
		{"positive int zero", func() (any, error) { return d.PositiveInt("INT_ZERO", 5) }, nil, "INT_ZERO"},
		{"positive int garbage", func() (any, error) { return d.PositiveInt("INT_BAD", 5) }, nil, "INT_BAD"},
		{"one of", func() (any, error) { return d.OneOf("MODE", "both", "confirm", "webhook", "both") }, "webhook", ""},
		{"one of unset", func() (any, error) { return d.OneOf("NONE", "both", "confirm", "webhook", "both") }, "both", ""},
		{"one of refused", func() (any, error) { return d.OneOf("MODE_BAD", "both", "confirm", "webhook", "both") }, nil, "MODE_BAD"},
		{"bool", func() (any, error) { return d.Bool("BOOL", true) }, false, ""},
		{"bool unset", func() (any, error) { return d.Bool("NONE", true) }, true, ""},
		{"bool garbage", func() (any, error) { return d.Bool("BOOL_BAD", true) }, nil, "BOOL_BAD"},
		{"string trimmed", func() (any, error) { return d.String("STR", "x"), nil }, "shop-1", ""},
		{"string unset", func() (any, error) { return d.String("NONE", "x"), nil }, "x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.read()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want an error naming %s", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestLogLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"": slog.LevelInfo, "debug": slog.LevelDebug, "WARN": slog.LevelWarn, "error": slog.LevelError, "loud": slog.LevelInfo,
	} {
		if got := LogLevel(in); got != want {
			t.Errorf("LogLevel(%q) = %v, want %v", in, got, want)
		}
	}
}
