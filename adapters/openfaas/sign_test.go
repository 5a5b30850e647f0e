package openfaas

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

func sign(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
