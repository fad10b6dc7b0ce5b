package s3api

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

// Bucket sub-resources hydrant does not implement: asked for, they get
// NotImplemented naming them, never a silent success.
var unsupportedBucketResources = []string{
	"accelerate", "acl", "analytics", "cors", "intelligent-tiering", "inventory", "lifecycle",
	"logging", "metadataConfiguration", "metadataTable", "metrics", "notification", "object-lock",
	"ownershipControls", "policy", "policyStatus", "publicAccessBlock", "replication",
	"requestPayment", "website", "session", "abac",
}

// Names of the bucket settings kept in objstore.BucketConfig.Settings.
const (
	settingLocation   = "location"
	settingEncryption = "encryption"
	settingTagging    = "tagging"
)

// bucketOp dispatches a request addressed to a bucket.
func (a *API) bucketOp(req *request) error {
	r := req.r
	for _, name := range unsupportedBucketResources {
		if req.has(name) {
			return notImplemented("The bucket sub-resource ?" + name + " (" + r.Method + ")")
		}
	}
	switch r.Method {
	case http.MethodGet:
		switch {
		case req.has("location"):
			return a.getBucketLocation(req)
		case req.has("versioning"):
			return a.getBucketVersioning(req)
		case req.has("encryption"):
			return a.getBucketSetting(req, settingEncryption, "ServerSideEncryptionConfigurationNotFoundError")
		case req.has("tagging"):
			return a.getBucketSetting(req, settingTagging, "NoSuchTagSet")
		case req.has("versions"):
			return a.listObjectVersions(req)
		case req.has("uploads"):
			return a.listMultipartUploads(req)
		case req.query.Get("list-type") == "2":
			return a.listObjectsV2(req)
		case req.query.Get("list-type") != "":
			return invalidArgument("list-type", req.query.Get("list-type"), "Invalid List Type specified")
		}
		return a.listObjectsV1(req)
	case http.MethodHead:
		return a.headBucket(req)
	case http.MethodPut:
		switch {
		case req.has("versioning"):
			return a.putBucketVersioning(req)
		case req.has("encryption"):
			return a.putBucketEncryption(req)
		case req.has("tagging"):
			return a.putBucketTagging(req)
		}
		return a.createBucket(req)
	case http.MethodDelete:
		switch {
		case req.has("encryption"):
			return a.deleteBucketSetting(req, settingEncryption)
		case req.has("tagging"):
			return a.deleteBucketSetting(req, settingTagging)
		}
		return storeError(a.noContent(req, a.store.DeleteBucket(req.ctx(), req.bucket)), req.bucket, "")
	case http.MethodPost:
		if req.has("delete") {
			return a.deleteObjects(req)
		}
		return notImplemented("POST to a bucket (browser-based uploads)")
	}
	return errS3("MethodNotAllowed", "Method", r.Method, "ResourceType", "BUCKET")
}

// noContent answers 204 when err is nil.
func (a *API) noContent(req *request, err error) error {
	if err == nil {
		req.w.WriteHeader(http.StatusNoContent)
	}
	return err
}

func (a *API) listBuckets(req *request) error {
	bs, err := a.store.Buckets(req.ctx())
	if err != nil {
		return err
	}
	prefix := req.query.Get("prefix")
	out := listAllMyBucketsResult{NS: s3NS, Owner: a.owner, Prefix: prefix}
	for _, b := range bs {
		if len(b.Name) < len(prefix) || b.Name[:len(prefix)] != prefix {
			continue
		}
		out.Buckets = append(out.Buckets, bucketXML{Name: b.Name, CreationDate: s3Time(b.Created), BucketRegion: a.region})
	}
	return writeXML(req.w, out)
}

func (a *API) createBucket(req *request) error {
	var conf createBucketConfiguration
	if req.body.Size() != 0 {
		if err := a.decodeXML(req, &conf); err != nil {
			return err
		}
		if conf.Location != nil || conf.Bucket != nil {
			return notImplemented("Directory buckets (CreateBucketConfiguration Location and Bucket)")
		}
	}
	if acl := req.r.Header.Get("X-Amz-Acl"); acl != "" && acl != "private" {
		return notImplemented("The canned ACL " + acl + " (x-amz-acl)")
	}
	if req.r.Header.Get("X-Amz-Bucket-Object-Lock-Enabled") == "true" {
		return notImplemented("Object Lock (x-amz-bucket-object-lock-enabled)")
	}
	if err := a.store.CreateBucket(req.ctx(), req.bucket); err != nil {
		return storeError(err, req.bucket, "")
	}
	if conf.LocationConstraint != "" {
		err := a.store.UpdateBucketConfig(req.ctx(), req.bucket, func(c *objstore.BucketConfig) error {
			if c.Settings == nil {
				c.Settings = map[string]string{}
			}
			c.Settings[settingLocation] = conf.LocationConstraint
			return nil
		})
		if err != nil {
			return storeError(err, req.bucket, "")
		}
	}
	req.w.Header().Set("Location", "/"+req.bucket)
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (a *API) bucketConfig(req *request) (objstore.BucketConfig, error) {
	c, err := a.store.BucketConfig(req.ctx(), req.bucket)
	return c, storeError(err, req.bucket, "")
}

func (a *API) headBucket(req *request) error {
	c, err := a.bucketConfig(req)
	if err != nil {
		return err
	}
	region := c.Settings[settingLocation]
	if region == "" {
		region = a.region
	}
	req.w.Header().Set("x-amz-bucket-region", region)
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (a *API) getBucketLocation(req *request) error {
	c, err := a.bucketConfig(req)
	if err != nil {
		return err
	}
	// us-east-1 buckets report an empty LocationConstraint, as S3's do.
	return writeXML(req.w, locationConstraint{NS: s3NS, Value: c.Settings[settingLocation]})
}

func (a *API) getBucketVersioning(req *request) error {
	c, err := a.bucketConfig(req)
	if err != nil {
		return err
	}
	return writeXML(req.w, versioningConfiguration{NS: s3NS, Status: string(c.Versioning)})
}

func (a *API) putBucketVersioning(req *request) error {
	var v versioningConfiguration
	if err := a.decodeXML(req, &v); err != nil {
		return err
	}
	if v.MfaDelete == "Enabled" {
		return notImplemented("MFA delete (MfaDelete Enabled)")
	}
	status := objstore.VersioningStatus(v.Status)
	if status != objstore.VersioningEnabled && status != objstore.VersioningSuspended {
		return errS3f("IllegalVersioningConfigurationException", "The Versioning element must be specified: Status is Enabled or Suspended")
	}
	err := a.store.UpdateBucketConfig(req.ctx(), req.bucket, func(c *objstore.BucketConfig) error {
		c.Versioning = status
		return nil
	})
	if err != nil {
		return storeError(err, req.bucket, "")
	}
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (a *API) putBucketEncryption(req *request) error {
	var c sseConfiguration
	if err := a.decodeXML(req, &c); err != nil {
		return err
	}
	if len(c.Rules) != 1 {
		return errS3("MalformedXML")
	}
	switch alg := c.Rules[0].Default.SSEAlgorithm; alg {
	case "AES256":
		if c.Rules[0].Default.KMSMasterKeyID != "" {
			return invalidArgument("KMSMasterKeyID", c.Rules[0].Default.KMSMasterKeyID, "a KMSMasterKeyID is allowed only for SSEAlgorithm aws:kms or aws:kms:dsse")
		}
	case "aws:kms", "aws:kms:dsse":
		return notImplemented("SSE-KMS bucket encryption (SSEAlgorithm " + alg + ": hydrant has no KMS)")
	default:
		return errS3("MalformedXML")
	}
	c.NS = s3NS
	return a.putBucketSetting(req, settingEncryption, c)
}

func (a *API) putBucketTagging(req *request) error {
	var t tagging
	if err := a.decodeXML(req, &t); err != nil {
		return err
	}
	if err := checkTags(t.TagSet); err != nil {
		return err
	}
	t.NS = s3NS
	return a.putBucketSetting(req, settingTagging, t)
}

// checkTags applies S3's tag rules: at most 50, keys 1 to 128 characters
// and unique, values at most 256, no aws: prefix.
func checkTags(ts []tag) error {
	if len(ts) > 50 {
		return errS3f("BadRequest", "Bucket tag count cannot be greater than 50")
	}
	seen := map[string]bool{}
	for _, t := range ts {
		switch {
		case len(t.Key) == 0 || len([]rune(t.Key)) > 128:
			return errS3f("InvalidTag", "The TagKey you have provided is invalid")
		case len([]rune(t.Value)) > 256:
			return errS3f("InvalidTag", "The TagValue you have provided is invalid")
		case len(t.Key) >= 4 && t.Key[:4] == "aws:":
			return errS3f("InvalidTag", "Your TagKey cannot be prefixed with aws:")
		case seen[t.Key]:
			return errS3f("InvalidTag", "Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}

// putBucketSetting stores a bucket configuration document, normalized.
func (a *API) putBucketSetting(req *request, name string, doc any) error {
	var b bytes.Buffer
	if err := xml.NewEncoder(&b).Encode(doc); err != nil {
		return err
	}
	err := a.store.UpdateBucketConfig(req.ctx(), req.bucket, func(c *objstore.BucketConfig) error {
		if c.Settings == nil {
			c.Settings = map[string]string{}
		}
		c.Settings[name] = b.String()
		return nil
	})
	if err != nil {
		return storeError(err, req.bucket, "")
	}
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (a *API) getBucketSetting(req *request, name, missing string) error {
	c, err := a.bucketConfig(req)
	if err != nil {
		return err
	}
	doc, ok := c.Settings[name]
	if !ok {
		return errS3(missing, "BucketName", req.bucket)
	}
	req.w.Header().Set("Content-Type", "application/xml")
	req.w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(doc)))
	req.w.WriteHeader(http.StatusOK)
	_, err = req.w.Write([]byte(xml.Header + doc))
	return err
}

func (a *API) deleteBucketSetting(req *request, name string) error {
	err := a.store.UpdateBucketConfig(req.ctx(), req.bucket, func(c *objstore.BucketConfig) error {
		delete(c.Settings, name)
		return nil
	})
	return a.noContent(req, storeError(err, req.bucket, ""))
}
