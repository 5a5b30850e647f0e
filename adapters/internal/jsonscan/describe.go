package jsonscan

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Describe rewrites an encoding/json error in the words every adapter's
// errors use: "field: got JSON string, want int" or "invalid JSON at byte
// N: …". Other errors are returned as they are.
func Describe(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("got JSON %s, want %s", te.Value, want(te))
		}
		return fmt.Errorf("%s: got JSON %s, want %s", te.Field, te.Value, want(te))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	return err
}

// want names the JSON shape a Go type stands for (int and float types by
// their Go name, which says what number is wanted).
func want(te *json.UnmarshalTypeError) string {
	switch te.Type.Kind().String() {
	case "string":
		return "string"
	case "slice":
		return "array"
	case "struct", "ptr", "map":
		return "object"
	}
	return te.Type.String()
}

// SplitDecimal splits a JSON number literal (epoch seconds, perhaps with a
// fraction) into whole and nanosecond parts without going through float64
// where it has no exponent.
func SplitDecimal(s string) (whole, nanos int64, err error) {
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || f > 1e15 {
			return 0, 0, errors.New("out of range")
		}
		whole = int64(f)
		return whole, int64((f - float64(whole)) * 1e9), nil
	}
	w, frac, _ := strings.Cut(s, ".")
	if whole, err = strconv.ParseInt(w, 10, 64); err != nil {
		return 0, 0, err
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	if frac != "" {
		n, err := strconv.ParseInt(frac, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		for i := len(frac); i < 9; i++ {
			n *= 10
		}
		nanos = n
	}
	return whole, nanos, nil
}
