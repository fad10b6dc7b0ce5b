// Package secretsmanager serves AWS Secrets Manager's GetRandomPassword
// (awsJson 1.1, target prefix "secretsmanager"), with every option AWS has,
// its defaults and its errors, from crypto/rand. Secrets themselves are
// not stored yet: every other Secrets Manager operation is answered with
// an error that names it.
package secretsmanager

import (
	"context"
	"crypto/rand"
	"log/slog"
	"math/big"
	"net/http"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// ModelName is the embedded AWS model requests are validated against.
const ModelName = "secretsmanager-2017-10-17"

// TargetPrefix is the X-Amz-Target prefix of Secrets Manager.
const TargetPrefix = "secretsmanager"

// The character types GetRandomPassword draws from. Punctuation is the 32
// characters AWS documents: ! " # $ % & ' ( ) * + , - . / : ; < = > ? @ [ \ ] ^ _ ` { | } ~
const (
	lowercase   = "abcdefghijklmnopqrstuvwxyz"
	uppercase   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits      = "0123456789"
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// defaultLength is PasswordLength when not given.
const defaultLength = 32

// Service is the Secrets Manager API.
type Service struct {
	model *awsproto.Model
	log   *slog.Logger
}

// New builds the service; log may be nil.
func New(log *slog.Logger) (*Service, error) {
	m, err := awsproto.LoadModel(ModelName)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{model: m, log: log}, nil
}

// API returns the awsJson dispatcher.
func (s *Service) API() *awsproto.Service {
	ops := map[string]awsproto.JSONHandler{"GetRandomPassword": s.getRandomPassword}
	for op := range s.model.Operations {
		if _, ok := ops[op]; !ok {
			ops[op] = unsupported(op)
		}
	}
	return &awsproto.Service{TargetPrefix: TargetPrefix, SigningName: "secretsmanager", Model: s.model, JSONVersion: "1.1",
		MaxBody: 1 << 20, Logger: s.log, Ops: ops}
}

func unsupported(op string) awsproto.JSONHandler {
	return func(context.Context, []byte) (any, error) {
		return nil, &awsproto.Error{Type: awsproto.UnknownOperationException, Status: http.StatusBadRequest,
			Message: "hydrant does not implement the Secrets Manager operation " + op + " yet; it serves GetRandomPassword"}
	}
}

// PasswordOptions are GetRandomPassword's parameters.
type PasswordOptions struct {
	PasswordLength          *int64
	ExcludeCharacters       *string
	ExcludeNumbers          bool
	ExcludePunctuation      bool
	ExcludeUppercase        bool
	ExcludeLowercase        bool
	IncludeSpace            bool
	RequireEachIncludedType *bool
}

func (s *Service) getRandomPassword(_ context.Context, body []byte) (any, error) {
	var in PasswordOptions
	if err := s.model.Decode("GetRandomPassword", body, &in); err != nil {
		return nil, err
	}
	pw, err := RandomPassword(in)
	if err != nil {
		return nil, err
	}
	return map[string]string{"RandomPassword": pw}, nil
}

func invalidParam(msg string) *awsproto.Error {
	return &awsproto.Error{Type: "InvalidParameterException", Message: msg, Status: http.StatusBadRequest}
}

// RandomPassword makes a password as GetRandomPassword does: PasswordLength
// characters (32 by default) drawn uniformly from the types not excluded,
// less ExcludeCharacters, plus the space with IncludeSpace; with
// RequireEachIncludedType (the default) at least one of each included
// letter, digit and punctuation type.
func RandomPassword(o PasswordOptions) (string, error) {
	length := int64(defaultLength)
	if o.PasswordLength != nil {
		length = *o.PasswordLength
	}
	if length < 1 || length > 4096 {
		return "", invalidParam("PasswordLength must be between 1 and 4096.")
	}
	exclude := ""
	if o.ExcludeCharacters != nil {
		exclude = *o.ExcludeCharacters
	}
	keep := func(set string) string {
		return strings.Map(func(r rune) rune {
			if strings.ContainsRune(exclude, r) {
				return -1
			}
			return r
		}, set)
	}
	var types []string // the included types that still have characters
	for _, t := range []struct {
		set      string
		excluded bool
	}{{lowercase, o.ExcludeLowercase}, {uppercase, o.ExcludeUppercase}, {digits, o.ExcludeNumbers}, {punctuation, o.ExcludePunctuation}} {
		if set := keep(t.set); !t.excluded && set != "" {
			types = append(types, set)
		}
	}
	pool := strings.Join(types, "")
	if o.IncludeSpace {
		pool += keep(" ")
	}
	if pool == "" {
		return "", invalidParam("The password cannot be generated: every character type is excluded, or all of its characters are in ExcludeCharacters.")
	}
	require := o.RequireEachIncludedType == nil || *o.RequireEachIncludedType
	out := make([]byte, 0, length)
	if require {
		if int64(len(types)) > length {
			return "", invalidParam("Password length is too short based on the required types.")
		}
		for _, t := range types {
			out = append(out, pick(t))
		}
	}
	for int64(len(out)) < length {
		out = append(out, pick(pool))
	}
	// Shuffle, so the required characters are not always first.
	for i := len(out) - 1; i > 0; i-- {
		j := randInt(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}

func pick(set string) byte { return set[randInt(len(set))] }

// randInt is a uniform random integer in [0, n) from crypto/rand.
func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic("crypto/rand: " + err.Error()) // the kernel's generator does not fail
	}
	return int(v.Int64())
}
