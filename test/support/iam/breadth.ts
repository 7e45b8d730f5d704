// Grants that reach more than the one resource a call used, on purpose: the resource lives in an account
// or region known only at run time (the source's), or is named by the execution input. A wrong-resource
// mutant (simulate.ts) that is still Allowed must be listed here, by `<action> <kind>` for every caller
// or `<caller> <action> <kind>` for one; anything else is a grant wider than its step needs.
const INTENDED_BREADTH: Record<string, string> = {
  'sts:AssumeRole account': 'the source access role is in the source account (custom.sourceAccessRolePattern; its trust policy and external id decide)',
  'acceptShare ram:AcceptResourceShareInvitation account': 'the invitation belongs to the sharing (source) account',
  'cloneCluster rds:RestoreDBClusterToPointInTime account': 'the source cluster is in the source account, named by source.clusterArn (the one statement also covers the new cluster)',
  'cloneCluster kms:DescribeKey account': 'RDS reads the source cluster key of the source account (its key policy decides)',
  'cloneCluster kms:CreateGrant account': 'RDS reads the source cluster key of the source account (its key policy decides)',
  'copySnapshot rds:CopyDBClusterSnapshot account': 'the shared source snapshot is in the source account',
  'copySnapshot rds:CopyDBClusterSnapshot region': 'a cross-region copy reads the snapshot in the source region',
  'copySnapshot kms:DescribeKey account': 'RDS reads the source snapshot key (source account; its key policy decides)',
  'copySnapshot kms:DescribeKey region': 'a cross-region copy uses the key of the snapshot region',
  'copySnapshot kms:CreateGrant account': 'RDS reads the source snapshot key (source account; its key policy decides)',
  'copySnapshot kms:CreateGrant region': 'a cross-region copy uses the key of the snapshot region',
  // source-account/role.yaml: the shareable copy of the snapshot lives in the target's region.
  '(source role) rds:DescribeDBClusterSnapshots region': 'the shareable copy is in the target region',
  '(source role) rds:DescribeDBClusterSnapshotAttributes region': 'the shareable copy is in the target region',
  '(source role) rds:ModifyDBClusterSnapshotAttribute region': 'the shareable copy is in the target region',
  '(source role) rds:DeleteDBClusterSnapshot region': 'the shareable copy is in the target region',
  '(source role) kms:DescribeKey context:kms:ViaService': 'the preflight describes the snapshot key directly (LetTheTargetUseTheSnapshotKey); RDS describes it too',
  '(source role) rds:CopyDBClusterSnapshot region': 'the shareable copy is made in the target region',
  'sns:Publish region': 'notify.topicArn may be a topic of any region of this account',
  'sns:Publish name': 'notify.topicArn may be any topic of this account (besides the stack topic)',
  // shared/aws/target-parameter-group.ts: the new cluster's group is target.dbClusterParameterGroupName
  // (any name) or crossmove's own copy; creating and modifying one is limited to crossmove-* names.
  'rds:DescribeDBClusterParameterGroups name': 'target.dbClusterParameterGroupName is named by the execution input: any cluster parameter group of this account (read-only)',
  'cloneCluster rds:RestoreDBClusterToPointInTime name': 'the clone\'s cluster parameter group is target.dbClusterParameterGroupName (named by the input) or crossmove\'s own copy',
  'restoreSnapshot rds:RestoreDBClusterFromSnapshot name': 'the restored cluster\'s parameter group is target.dbClusterParameterGroupName (named by the input) or crossmove\'s own copy',
  'secretsmanager:GetSecretValue name': 'admin secrets are named by the execution input: any secret of this account and region (custom.iam.readSecrets)',
};

export function unintended(allowed: string[]): string[] {
  return allowed.filter((m) => !(m in INTENDED_BREADTH) && !(m.split(' ').slice(1).join(' ') in INTENDED_BREADTH));
}
