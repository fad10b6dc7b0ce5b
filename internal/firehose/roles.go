package firehose

import "context"

// RoleChecker says whether IAM holds a role (iam.Service implements it).
// With one set in Options.Roles (serve --require-roles), CreateDeliveryStream
// and UpdateDestination refuse a configuration naming a role IAM does not
// hold, as Firehose refuses a role it cannot assume.
type RoleChecker interface {
	RoleExists(ctx context.Context, arn string) bool
}

// checkRoles refuses the first role ARN of d that Options.Roles does not
// hold: the destination's, its backup's, the schema configuration's and
// each processor's RoleArn. Nil Roles checks nothing.
func (s *Service) checkRoles(ctx context.Context, d *ExtendedS3Destination) error {
	if s.opts.Roles == nil {
		return nil
	}
	arns := []*string{d.RoleARN}
	if d.S3BackupConfiguration != nil {
		arns = append(arns, d.S3BackupConfiguration.RoleARN)
	}
	if c := d.DataFormatConversionConfiguration; c != nil && c.SchemaConfiguration != nil {
		arns = append(arns, c.SchemaConfiguration.RoleARN)
	}
	if d.ProcessingConfiguration != nil {
		for _, p := range d.ProcessingConfiguration.Processors {
			for _, prm := range p.Parameters {
				if prm.ParameterName == "RoleArn" {
					arns = append(arns, &prm.ParameterValue)
				}
			}
		}
	}
	for _, a := range arns {
		if a != nil && *a != "" && !s.opts.Roles.RoleExists(ctx, *a) {
			// Firehose's answer for a role it cannot assume.
			return invalidArg("Firehose is unable to assume role %s. Please check the role provided.", *a)
		}
	}
	return nil
}
