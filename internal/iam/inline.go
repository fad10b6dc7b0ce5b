package iam

import (
	"context"
	"strings"
)

type rolePolicyInput struct {
	RoleName, PolicyName string
	PolicyDocument       string
}

func noSuchRolePolicy(name string) error {
	return iamErr(errNoSuchEntity, "The role policy with name %s cannot be found.", name)
}

func (s *Service) putRolePolicy(_ context.Context, body []byte) (any, error) {
	var in rolePolicyInput
	if err := s.decode("PutRolePolicy", body, &in); err != nil {
		return nil, err
	}
	if e := checkPermissionsPolicy(in.PolicyDocument, 0); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	key := strings.ToLower(in.PolicyName)
	// The quota is on every inline policy of the role together.
	total := len(compact(in.PolicyDocument))
	for k, p := range r.Inline {
		if k != key {
			total += len(compact(p.Document))
		}
	}
	if total > maxInlineTotal {
		return nil, iamErr(errLimitExceeded, "Maximum policy size of %d bytes exceeded for role %s", maxInlineTotal, r.Name)
	}
	if r.Inline == nil {
		r.Inline = map[string]inline{}
	}
	r.Inline[key] = inline{Name: in.PolicyName, Document: in.PolicyDocument}
	return nil, s.commit()
}

func (s *Service) getRolePolicy(_ context.Context, body []byte) (any, error) {
	var in rolePolicyInput
	if err := s.decode("GetRolePolicy", body, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	p, ok := r.Inline[strings.ToLower(in.PolicyName)]
	if !ok {
		return nil, noSuchRolePolicy(in.PolicyName)
	}
	return map[string]any{"RoleName": r.Name, "PolicyName": p.Name, "PolicyDocument": encodeDocument(p.Document)}, nil
}

func (s *Service) deleteRolePolicy(_ context.Context, body []byte) (any, error) {
	var in rolePolicyInput
	if err := s.decode("DeleteRolePolicy", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	key := strings.ToLower(in.PolicyName)
	if _, ok := r.Inline[key]; !ok {
		return nil, noSuchRolePolicy(in.PolicyName)
	}
	delete(r.Inline, key)
	return nil, s.commit()
}

func (s *Service) listRolePolicies(_ context.Context, body []byte) (any, error) {
	var in struct {
		RoleName string
		Marker   *string
		MaxItems *int
	}
	if err := s.decode("ListRolePolicies", body, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	names := make([]string, 0, len(r.Inline))
	for _, p := range r.Inline {
		names = append(names, p.Name)
	}
	pg, next, more, e := page(names, strings.ToLower, in.Marker, in.MaxItems)
	if e != nil {
		return nil, e
	}
	return listResult(map[string]any{"PolicyNames": pg}, next, more), nil
}
