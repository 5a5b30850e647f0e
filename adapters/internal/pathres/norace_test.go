//go:build !race

package pathres

const raceEnabled = false
