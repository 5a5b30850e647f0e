//go:build !unix

package spool

import "os"

// lockDir is a no-op where flock is unavailable: there, running two
// processes on one data_dir is the operator's mistake to avoid.
func lockDir(string) (*os.File, error) { return nil, nil }

func unlockDir(*os.File) {}
