package conf

import (
	"errors"
	"fmt"

	"github.com/auditrelay/auditrelay"
)

// validator is implemented by every plugin Config.
type validator interface{ Validate() error }

// validate reads secret files and checks every section, reporting every
// problem at once, each prefixed with its section and file.
func (c *Config) validate() error {
	errs := []error{c.Relay.Validate()}
	for _, name := range c.InputNames() {
		in := c.Inputs[name]
		errs = append(errs, prefix(fmt.Sprintf("%s: [inputs.%s]", in.File, name), c.validateInput(in)))
	}
	for _, name := range c.OutputNames() {
		out := c.Outputs[name]
		errs = append(errs, prefix(fmt.Sprintf("%s: [outputs.%s]", out.File, name), c.validateOutput(out)))
	}
	if len(c.Inputs) == 0 {
		errs = append(errs, errors.New("no inputs configured: add an [inputs.NAME] section"))
	}
	if len(c.Outputs) == 0 {
		errs = append(errs, errors.New("no outputs configured: add an [outputs.NAME] section"))
	}
	return errors.Join(errs...)
}

func (c *Config) validateInput(in *Input) error {
	errs := []error{readSecretFiles(in), readSecretFiles(in.Plugin), in.Validate()}
	if v, ok := in.Plugin.(validator); ok {
		errs = append(errs, v.Validate())
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if Adapters()[in.Adapter].pull {
		return nil
	}
	a, err := BuildAdapter(in)
	if err != nil {
		return err
	}
	signed := false
	if v, ok := a.(auditrelay.Verifier); ok {
		signed = v.HasKey()
	}
	if !signed && !in.Authorization.IsSet() && !in.AllowUnsigned {
		return errors.New(`accepts anyone: set "authorization" (or "authorization_file")` + keyHint(a) + `, or allow_unsigned = true for a trusted network`)
	}
	return nil
}

func keyHint(a auditrelay.Adapter) string {
	if _, ok := a.(auditrelay.Verifier); ok {
		return `, the signing "secret" (or "secret_file")`
	}
	return ""
}

func (c *Config) validateOutput(out *Output) error {
	errs := []error{readSecretFiles(out.Plugin), out.Validate(c.Inputs)}
	if v, ok := out.Plugin.(validator); ok {
		errs = append(errs, v.Validate())
	}
	return errors.Join(errs...)
}

// prefix puts p before each of err's joined errors.
func prefix(p string, err error) error {
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			errs = append(errs, prefix(p, e))
		}
		return errors.Join(errs...)
	}
	return fmt.Errorf("%s: %w", p, err)
}
