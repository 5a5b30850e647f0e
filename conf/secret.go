package conf

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/auditrelay/auditrelay"
)

var secretType = reflect.TypeFor[auditrelay.Secret]()

// readSecretFiles fills every Secret field tagged "x" from the file named
// by its sibling string field tagged "x_file", in v (a pointer to a struct)
// and the structs it embeds or holds. Setting both is an error.
func readSecretFiles(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil
	}
	return readSecretFilesIn(rv.Elem())
}

func readSecretFilesIn(s reflect.Value) error {
	var errs []error
	t := s.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := s.Field(i)
		if fv.Kind() == reflect.Struct && f.Type != secretType {
			errs = append(errs, readSecretFilesIn(fv))
			continue
		}
		if f.Type != secretType {
			continue
		}
		key := tagName(f)
		fileField, ok := fieldByTag(s, key+"_file")
		if !ok || fileField.String() == "" {
			continue
		}
		secret := fv.Addr().Interface().(*auditrelay.Secret)
		if secret.IsSet() {
			errs = append(errs, fmt.Errorf("set either %q or %q, not both", key, key+"_file"))
			continue
		}
		b, err := os.ReadFile(fileField.String())
		if err != nil {
			errs = append(errs, fmt.Errorf("%q: read secret: %w", key+"_file", err))
			continue
		}
		value := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if value == "" {
			errs = append(errs, fmt.Errorf("%q: %s is empty", key+"_file", fileField.String()))
			continue
		}
		*secret = auditrelay.NewSecret(value)
	}
	return errors.Join(errs...)
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	return name
}

func fieldByTag(s reflect.Value, tag string) (reflect.Value, bool) {
	t := s.Type()
	for i := range t.NumField() {
		if tagName(t.Field(i)) == tag && t.Field(i).Type.Kind() == reflect.String {
			return s.Field(i), true
		}
	}
	return reflect.Value{}, false
}
