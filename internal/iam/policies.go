package iam

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// IAM's quotas on managed policies.
const (
	maxPolicies        = 1500 // PoliciesPerAccount (customer managed)
	maxPolicyVersions  = 5
	maxPoliciesPerRole = 10 // PoliciesPerRole (managed policies attached)
)

func policyNotFound(arn string) *awsproto.Error {
	return iamErr(errNoSuchEntity, "Policy %s was not found.", arn)
}

// customerPolicy resolves an ARN that must name a customer managed policy
// (the version operations); callers hold s.mu.
func (s *Service) customerPolicy(arn string) (*policy, *awsproto.Error) {
	ref, ok, e := s.resolvePolicy(arn)
	switch {
	case e != nil:
		return nil, e
	case ref.awsPolicy:
		return nil, iamErr(errNoSuchEntity, "Policy %s is an AWS managed policy: hydrant does not hold the documents or versions of AWS managed policies, only their attachments.", arn)
	case !ok:
		return nil, policyNotFound(arn)
	}
	return ref.customer, nil
}

// usage counts the roles a policy ARN is attached to, and those it bounds.
func (s *Service) usage(arn string) (attached, boundary int) {
	for _, r := range s.st.Roles {
		if slices.Contains(r.Attached, arn) {
			attached++
		}
		if r.PermissionsBound == arn {
			boundary++
		}
	}
	return attached, boundary
}

func (s *Service) policyJSON(p *policy) map[string]any {
	arn := s.policyARN(p)
	n, b := s.usage(arn)
	m := map[string]any{
		"PolicyName": p.Name, "PolicyId": p.ID, "Arn": arn, "Path": p.Path, "DefaultVersionId": p.DefaultVersion,
		"AttachmentCount": n, "PermissionsBoundaryUsageCount": b, "IsAttachable": true,
		"CreateDate": awsproto.EpochSeconds(p.Created), "UpdateDate": awsproto.EpochSeconds(p.Updated),
	}
	if p.Description != "" {
		m["Description"] = p.Description
	}
	if len(p.Tags) > 0 {
		m["Tags"] = p.Tags
	}
	return m
}

// awsPolicyJSON is what hydrant knows of an AWS managed policy: its name,
// path and use here; not its ID, dates or document.
func (s *Service) awsPolicyJSON(ref policyRef) map[string]any {
	n, b := s.usage(ref.arn)
	return map[string]any{"PolicyName": ref.name, "Arn": ref.arn, "Path": ref.path, "AttachmentCount": n,
		"PermissionsBoundaryUsageCount": b, "IsAttachable": true}
}

func (s *Service) createPolicy(_ context.Context, body []byte) (any, error) {
	var in struct {
		PolicyName     string
		Path           *string
		PolicyDocument string
		Description    *string
		Tags           []tag
	}
	if err := s.decode("CreatePolicy", body, &in); err != nil {
		return nil, err
	}
	if e := checkPermissionsPolicy(in.PolicyDocument, maxManagedPolicy); e != nil {
		return nil, e
	}
	if e := checkTags(nil, in.Tags, "TagsPerPolicy"); e != nil {
		return nil, e
	}
	now := s.now().UTC()
	p := &policy{Name: in.PolicyName, ID: newID("ANPA", 21), Path: deref(in.Path, "/"), Description: deref(in.Description, ""),
		Created: now, Updated: now, Tags: in.Tags, DefaultVersion: "v1", NextVersion: 2,
		Versions: []version{{ID: "v1", Document: in.PolicyDocument, Created: now}}}
	if !policyPathRE.MatchString(p.Path) {
		return nil, iamErr(errInvalidInput, "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(in.PolicyName)
	if s.st.Policies[key] != nil {
		return nil, iamErr(errAlreadyExists, "A policy called %s already exists. Duplicate names are not allowed.", in.PolicyName)
	}
	if len(s.st.Policies) >= maxPolicies {
		return nil, iamErr(errLimitExceeded, "Cannot exceed quota for PoliciesPerAccount: %d.", maxPolicies)
	}
	s.st.Policies[key] = p
	if err := s.commit(); err != nil {
		return nil, err
	}
	return map[string]any{"Policy": s.policyJSON(p)}, nil
}

type policyARNInput struct{ PolicyArn string }

func (s *Service) getPolicy(_ context.Context, body []byte) (any, error) {
	var in policyARNInput
	if err := s.decode("GetPolicy", body, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ref, ok, e := s.resolvePolicy(in.PolicyArn)
	switch {
	case e != nil:
		return nil, e
	case !ok:
		return nil, policyNotFound(in.PolicyArn)
	case ref.awsPolicy:
		return map[string]any{"Policy": s.awsPolicyJSON(ref)}, nil
	}
	return map[string]any{"Policy": s.policyJSON(ref.customer)}, nil
}

func (s *Service) listPolicies(_ context.Context, body []byte) (any, error) {
	var in struct {
		Scope             *string
		OnlyAttached      bool
		PathPrefix        *string
		PolicyUsageFilter *string
		Marker            *string
		MaxItems          *int
	}
	if err := s.decode("ListPolicies", body, &in); err != nil {
		return nil, err
	}
	scope := deref(in.Scope, "All")
	s.mu.RLock()
	defer s.mu.RUnlock()
	type entry struct {
		key string
		doc map[string]any
	}
	var all []entry
	keep := func(path string, doc map[string]any) {
		if in.PathPrefix != nil && !strings.HasPrefix(path, *in.PathPrefix) {
			return
		}
		n, b := doc["AttachmentCount"].(int), doc["PermissionsBoundaryUsageCount"].(int)
		if in.OnlyAttached && n+b == 0 {
			return
		}
		if in.PolicyUsageFilter != nil && *in.PolicyUsageFilter == "PermissionsBoundary" && b == 0 {
			return
		}
		all = append(all, entry{key: strings.ToLower(doc["PolicyName"].(string)) + "\x00" + doc["Arn"].(string), doc: doc})
	}
	if scope != "AWS" {
		for _, p := range s.st.Policies {
			keep(p.Path, s.policyJSON(p))
		}
	}
	if scope != "Local" {
		// The AWS managed policies hydrant knows of are those in use here.
		seen := map[string]bool{}
		for _, r := range s.st.Roles {
			for _, arn := range append(slices.Clone(r.Attached), r.PermissionsBound) {
				if !strings.HasPrefix(arn, awsPolicyPrefix+"/") || seen[arn] {
					continue
				}
				seen[arn] = true
				if ref, ok, _ := s.resolvePolicy(arn); ok {
					keep(ref.path, s.awsPolicyJSON(ref))
				}
			}
		}
	}
	pg, next, more, e := page(all, func(x entry) string { return x.key }, in.Marker, in.MaxItems)
	if e != nil {
		return nil, e
	}
	out := make([]any, 0, len(pg))
	for _, x := range pg {
		out = append(out, x.doc)
	}
	return listResult(map[string]any{"Policies": out}, next, more), nil
}

func (s *Service) deletePolicy(_ context.Context, body []byte) (any, error) {
	var in policyARNInput
	if err := s.decode("DeletePolicy", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, ok, e := s.resolvePolicy(in.PolicyArn)
	switch {
	case e != nil:
		return nil, e
	case ref.awsPolicy:
		return nil, iamErr(errUnmodifiable, "Cannot delete policy %s: AWS managed policies cannot be deleted.", in.PolicyArn)
	case !ok:
		return nil, policyNotFound(in.PolicyArn)
	}
	if n, b := s.usage(in.PolicyArn); n+b > 0 {
		return nil, iamErr(errDeleteConflict, "Cannot delete a policy attached to entities.")
	}
	if len(ref.customer.Versions) > 1 {
		return nil, iamErr(errDeleteConflict, "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	}
	delete(s.st.Policies, strings.ToLower(ref.customer.Name))
	return nil, s.commit()
}

func versionJSON(p *policy, v *version, withDocument bool) map[string]any {
	m := map[string]any{"VersionId": v.ID, "IsDefaultVersion": v.ID == p.DefaultVersion, "CreateDate": awsproto.EpochSeconds(v.Created)}
	if withDocument {
		m["Document"] = encodeDocument(v.Document)
	}
	return m
}

func (s *Service) createPolicyVersion(_ context.Context, body []byte) (any, error) {
	var in struct {
		PolicyArn, PolicyDocument string
		SetAsDefault              bool
	}
	if err := s.decode("CreatePolicyVersion", body, &in); err != nil {
		return nil, err
	}
	if e := checkPermissionsPolicy(in.PolicyDocument, maxManagedPolicy); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.customerPolicy(in.PolicyArn)
	if e != nil {
		return nil, e
	}
	if len(p.Versions) >= maxPolicyVersions {
		return nil, iamErr(errLimitExceeded, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
	}
	now := s.now().UTC()
	v := version{ID: "v" + strconv.Itoa(p.NextVersion), Document: in.PolicyDocument, Created: now}
	p.NextVersion++
	p.Versions = append(p.Versions, v)
	if in.SetAsDefault {
		p.DefaultVersion = v.ID
	}
	p.Updated = now
	if err := s.commit(); err != nil {
		return nil, err
	}
	return map[string]any{"PolicyVersion": versionJSON(p, &v, false)}, nil
}

func noSuchVersion(arn, id string) *awsproto.Error {
	return iamErr(errNoSuchEntity, "Policy %s version %s does not exist or is not attachable.", arn, id)
}

type versionInput struct{ PolicyArn, VersionId string }

func (s *Service) getPolicyVersion(_ context.Context, body []byte) (any, error) {
	var in versionInput
	if err := s.decode("GetPolicyVersion", body, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, e := s.customerPolicy(in.PolicyArn)
	if e != nil {
		return nil, e
	}
	v := p.version(in.VersionId)
	if v == nil {
		return nil, noSuchVersion(in.PolicyArn, in.VersionId)
	}
	return map[string]any{"PolicyVersion": versionJSON(p, v, true)}, nil
}

func (s *Service) listPolicyVersions(_ context.Context, body []byte) (any, error) {
	var in struct {
		PolicyArn string
		Marker    *string
		MaxItems  *int
	}
	if err := s.decode("ListPolicyVersions", body, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, e := s.customerPolicy(in.PolicyArn)
	if e != nil {
		return nil, e
	}
	// Newest first, as IAM lists them.
	vs := make([]*version, 0, len(p.Versions))
	for i := range p.Versions {
		vs = append(vs, &p.Versions[i])
	}
	pg, next, more, e := page(vs, func(v *version) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(v.ID, "v"))
		return fmt.Sprintf("%010d", 1<<30-n)
	}, in.Marker, in.MaxItems)
	if e != nil {
		return nil, e
	}
	out := make([]any, 0, len(pg))
	for _, v := range pg {
		out = append(out, versionJSON(p, v, false))
	}
	return listResult(map[string]any{"Versions": out}, next, more), nil
}

func (s *Service) deletePolicyVersion(_ context.Context, body []byte) (any, error) {
	var in versionInput
	if err := s.decode("DeletePolicyVersion", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.customerPolicy(in.PolicyArn)
	if e != nil {
		return nil, e
	}
	if p.version(in.VersionId) == nil {
		return nil, noSuchVersion(in.PolicyArn, in.VersionId)
	}
	if in.VersionId == p.DefaultVersion {
		return nil, iamErr(errDeleteConflict, "Cannot delete the default version of a policy.")
	}
	p.Versions = slices.DeleteFunc(p.Versions, func(v version) bool { return v.ID == in.VersionId })
	p.Updated = s.now().UTC()
	return nil, s.commit()
}

func (s *Service) setDefaultPolicyVersion(_ context.Context, body []byte) (any, error) {
	var in versionInput
	if err := s.decode("SetDefaultPolicyVersion", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.customerPolicy(in.PolicyArn)
	if e != nil {
		return nil, e
	}
	if p.version(in.VersionId) == nil {
		return nil, noSuchVersion(in.PolicyArn, in.VersionId)
	}
	p.DefaultVersion = in.VersionId
	p.Updated = s.now().UTC()
	return nil, s.commit()
}

type attachInput struct{ RoleName, PolicyArn string }

func (s *Service) attachRolePolicy(_ context.Context, body []byte) (any, error) {
	var in attachInput
	if err := s.decode("AttachRolePolicy", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	ref, e := s.attachable(in.PolicyArn)
	if e != nil {
		return nil, e
	}
	if slices.Contains(r.Attached, ref.arn) {
		return nil, nil // attaching twice changes nothing, as in IAM
	}
	if len(r.Attached) >= maxPoliciesPerRole {
		return nil, iamErr(errLimitExceeded, "Cannot exceed quota for PoliciesPerRole: %d.", maxPoliciesPerRole)
	}
	r.Attached = append(r.Attached, ref.arn)
	return nil, s.commit()
}

func (s *Service) detachRolePolicy(_ context.Context, body []byte) (any, error) {
	var in attachInput
	if err := s.decode("DetachRolePolicy", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	if _, _, e := s.resolvePolicy(in.PolicyArn); e != nil {
		return nil, e
	}
	if !slices.Contains(r.Attached, in.PolicyArn) {
		return nil, policyNotFound(in.PolicyArn)
	}
	r.Attached = slices.DeleteFunc(r.Attached, func(a string) bool { return a == in.PolicyArn })
	return nil, s.commit()
}

func (s *Service) listAttachedRolePolicies(_ context.Context, body []byte) (any, error) {
	var in struct {
		RoleName   string
		PathPrefix *string
		Marker     *string
		MaxItems   *int
	}
	if err := s.decode("ListAttachedRolePolicies", body, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, e := s.roleLocked(in.RoleName)
	if e != nil {
		return nil, e
	}
	type attached struct{ name, arn string }
	var all []attached
	for _, arn := range r.Attached {
		ref, _, _ := s.resolvePolicy(arn)
		if in.PathPrefix != nil && !strings.HasPrefix(ref.path, *in.PathPrefix) {
			continue
		}
		all = append(all, attached{name: ref.name, arn: arn})
	}
	pg, next, more, e := page(all, func(a attached) string { return strings.ToLower(a.name) + "\x00" + a.arn }, in.Marker, in.MaxItems)
	if e != nil {
		return nil, e
	}
	out := make([]any, 0, len(pg))
	for _, a := range pg {
		out = append(out, map[string]any{"PolicyName": a.name, "PolicyArn": a.arn})
	}
	return listResult(map[string]any{"AttachedPolicies": out}, next, more), nil
}
