package iam

import (
	"context"
	"sort"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// IAM's account quotas hydrant enforces (the defaults of a new account).
const (
	maxRoles         = 1000 // RolesPerAccount
	maxTagsPerEntity = 50   // TagsPerRole, TagsPerPolicy
	defaultSession   = 3600 // MaxSessionDuration when not given
)

type createRoleInput struct {
	RoleName                 string
	Path                     *string
	AssumeRolePolicyDocument string
	Description              *string
	MaxSessionDuration       *int
	PermissionsBoundary      *string
	Tags                     []tag
}

func (s *Service) createRole(_ context.Context, body []byte) (any, error) {
	var in createRoleInput
	if err := s.decode("CreateRole", body, &in); err != nil {
		return nil, err
	}
	if e := checkTrustPolicy(in.AssumeRolePolicyDocument); e != nil {
		return nil, e
	}
	if e := checkTags(nil, in.Tags, "TagsPerRole"); e != nil {
		return nil, e
	}
	r := &role{Name: in.RoleName, ID: newID("AROA", 21), Path: deref(in.Path, "/"), AssumeRolePolicy: in.AssumeRolePolicyDocument,
		MaxSessionDuration: deref(in.MaxSessionDuration, defaultSession), Description: deref(in.Description, ""),
		Created: s.now().UTC(), Tags: in.Tags}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(in.RoleName)
	if s.st.Roles[key] != nil {
		return nil, iamErr(errAlreadyExists, "Role with name %s already exists.", in.RoleName)
	}
	if len(s.st.Roles) >= maxRoles {
		return nil, iamErr(errLimitExceeded, "Cannot exceed quota for RolesPerAccount: %d.", maxRoles)
	}
	if in.PermissionsBoundary != nil {
		if _, e := s.attachable(*in.PermissionsBoundary); e != nil {
			return nil, iamErr(errNoSuchEntity, "Scope ARN: %s does not exist or is not attachable.", *in.PermissionsBoundary)
		}
		r.PermissionsBound = *in.PermissionsBoundary
	}
	s.st.Roles[key] = r
	if err := s.commit(); err != nil {
		return nil, err
	}
	return map[string]any{"Role": s.roleJSON(r, roleCreated)}, nil
}

// How much of a role an answer shows.
const (
	roleCreated = iota // CreateRole: no MaxSessionDuration, no RoleLastUsed
	roleListed         // ListRoles: no tags, boundary or RoleLastUsed
	roleFull           // GetRole, UpdateRoleDescription
)

func (s *Service) roleJSON(r *role, view int) map[string]any {
	m := map[string]any{
		"Path": r.Path, "RoleName": r.Name, "RoleId": r.ID, "Arn": s.roleARN(r),
		"CreateDate": awsproto.EpochSeconds(r.Created), "AssumeRolePolicyDocument": encodeDocument(r.AssumeRolePolicy),
	}
	if r.Description != "" {
		m["Description"] = r.Description
	}
	if view != roleCreated {
		m["MaxSessionDuration"] = r.MaxSessionDuration
	}
	if view != roleListed {
		if len(r.Tags) > 0 {
			m["Tags"] = r.Tags
		}
		if r.PermissionsBound != "" {
			m["PermissionsBoundary"] = map[string]any{"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": r.PermissionsBound}
		}
	}
	if view == roleFull {
		m["RoleLastUsed"] = map[string]any{}
	}
	return m
}

// roleLocked finds a role by name; callers hold s.mu.
func (s *Service) roleLocked(name string) (*role, *awsproto.Error) {
	r := s.st.Roles[strings.ToLower(name)]
	if r == nil {
		return nil, noSuchRole(name)
	}
	return r, nil
}

type roleNameInput struct{ RoleName string }

func (s *Service) getRole(_ context.Context, body []byte) (any, error) {
	var in roleNameInput
	if err := s.decode("GetRole", body, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	return map[string]any{"Role": s.roleJSON(r, roleFull)}, nil
}

type listInput struct {
	PathPrefix *string
	Marker     *string
	MaxItems   *int
}

func (s *Service) listRoles(_ context.Context, body []byte) (any, error) {
	var in listInput
	if err := s.decode("ListRoles", body, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var roles []*role
	for _, r := range s.st.Roles {
		if in.PathPrefix == nil || strings.HasPrefix(r.Path, *in.PathPrefix) {
			roles = append(roles, r)
		}
	}
	pg, next, more, e := page(roles, func(r *role) string { return strings.ToLower(r.Name) }, in.Marker, in.MaxItems)
	if e != nil {
		return nil, e
	}
	out := make([]any, 0, len(pg))
	for _, r := range pg {
		out = append(out, s.roleJSON(r, roleListed))
	}
	return listResult(map[string]any{"Roles": out}, next, more), nil
}

func (s *Service) deleteRole(_ context.Context, body []byte) (any, error) {
	var in roleNameInput
	if err := s.decode("DeleteRole", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	if len(r.Attached) > 0 {
		return nil, iamErr(errDeleteConflict, "Cannot delete entity, must detach all policies first.")
	}
	if len(r.Inline) > 0 {
		return nil, iamErr(errDeleteConflict, "Cannot delete entity, must delete policies first.")
	}
	delete(s.st.Roles, strings.ToLower(r.Name))
	return nil, s.commit()
}

func (s *Service) updateRole(_ context.Context, body []byte) (any, error) {
	var in struct {
		RoleName           string
		Description        *string
		MaxSessionDuration *int
	}
	if err := s.decode("UpdateRole", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	if in.Description != nil {
		r.Description = *in.Description
	}
	if in.MaxSessionDuration != nil {
		r.MaxSessionDuration = *in.MaxSessionDuration
	}
	return nil, s.commit()
}

func (s *Service) updateRoleDescription(_ context.Context, body []byte) (any, error) {
	var in struct{ RoleName, Description string }
	if err := s.decode("UpdateRoleDescription", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	r.Description = in.Description
	if err := s.commit(); err != nil {
		return nil, err
	}
	return map[string]any{"Role": s.roleJSON(r, roleFull)}, nil
}

func (s *Service) updateAssumeRolePolicy(_ context.Context, body []byte) (any, error) {
	var in struct{ RoleName, PolicyDocument string }
	if err := s.decode("UpdateAssumeRolePolicy", body, &in); err != nil {
		return nil, err
	}
	if e := checkTrustPolicy(in.PolicyDocument); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	r.AssumeRolePolicy = in.PolicyDocument
	return nil, s.commit()
}

// checkTags refuses duplicate keys in add and more tags than IAM allows
// once add is merged into cur.
func checkTags(cur, add []tag, quota string) *awsproto.Error {
	seen := map[string]bool{}
	for _, t := range add {
		k := strings.ToLower(t.Key)
		if seen[k] {
			return iamErr(errInvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
	}
	if len(mergeTags(cur, add)) > maxTagsPerEntity {
		return iamErr(errLimitExceeded, "Cannot exceed quota for %s: %d.", quota, maxTagsPerEntity)
	}
	return nil
}

// mergeTags sets add's keys on cur (keys compared ignoring case, as IAM
// does), keeping cur's order and appending new keys.
func mergeTags(cur, add []tag) []tag {
	out := append([]tag(nil), cur...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, t.Key) {
				out[i] = t
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

func (s *Service) tagRole(_ context.Context, body []byte) (any, error) {
	var in struct {
		RoleName string
		Tags     []tag
	}
	if err := s.decode("TagRole", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	if e := checkTags(r.Tags, in.Tags, "TagsPerRole"); e != nil {
		return nil, e
	}
	r.Tags = mergeTags(r.Tags, in.Tags)
	return nil, s.commit()
}

func (s *Service) untagRole(_ context.Context, body []byte) (any, error) {
	var in struct {
		RoleName string
		TagKeys  []string
	}
	if err := s.decode("UntagRole", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	keep := r.Tags[:0]
	for _, t := range r.Tags {
		drop := false
		for _, k := range in.TagKeys {
			drop = drop || strings.EqualFold(k, t.Key)
		}
		if !drop {
			keep = append(keep, t)
		}
	}
	r.Tags = keep
	return nil, s.commit()
}

func (s *Service) listRoleTags(_ context.Context, body []byte) (any, error) {
	var in struct {
		RoleName string
		Marker   *string
		MaxItems *int
	}
	if err := s.decode("ListRoleTags", body, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	tags := append([]tag{}, r.Tags...)
	sort.SliceStable(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	pg, next, more, e := page(tags, func(t tag) string { return t.Key }, in.Marker, in.MaxItems)
	if e != nil {
		return nil, e
	}
	return listResult(map[string]any{"Tags": pg}, next, more), nil
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
