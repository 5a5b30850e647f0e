package main

import (
	"errors"
	"os/exec"
)

// exitCode is a finished command's exit status (-1 when it did not run).
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
