package main

import "context"

func (e env) run(ctx context.Context, args []string) error        { return usageError{"run: not yet"} }
func (e env) check(ctx context.Context, args []string) error      { return usageError{"check: not yet"} }
func (e env) replay(ctx context.Context, args []string) error     { return usageError{"replay: not yet"} }
func (e env) deadletter(ctx context.Context, args []string) error { return usageError{"deadletter: not yet"} }
