package deps

import (
	"fmt"
	"strconv"
	"time"
)

// Duration reads a function setting that is a positive Go duration (such
// as 30m); def when it is unset.
func (d Deps) Duration(name string, def time.Duration) (time.Duration, error) {
	v := d.Getenv(name)
	if v == "" {
		return def, nil
	}
	dur, err := time.ParseDuration(v)
	if err != nil || dur <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive Go duration such as 30m", name, v)
	}
	return dur, nil
}

// PositiveInt reads a function setting that is a positive integer; def
// when it is unset.
func (d Deps) PositiveInt(name string, def int) (int, error) {
	v := d.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%q: want a positive integer", name, v)
	}
	return n, nil
}

// OneOf reads a function setting that must be one of allowed; def when it
// is unset.
func (d Deps) OneOf(name, def string, allowed ...string) (string, error) {
	v := d.Getenv(name)
	if v == "" {
		return def, nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s=%q: want one of %v", name, v, allowed)
}
