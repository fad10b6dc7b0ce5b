//go:build !linux

package objstore

import "os"

// Extended attributes are only used on Linux; elsewhere local objects do not
// keep Meta (Put logs this once).

func setXattr(*os.File, string, []byte) error { return errXattrUnsupported }

func getXattr(*os.File, string) (string, error) { return "", nil }

func isTooBig(error) bool { return false }
