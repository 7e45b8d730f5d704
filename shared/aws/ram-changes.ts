// AWS RAM, changes: create the share (source account), add missing associations, accept the
// invitation (target account). A retried create is safe because ensureShare looks for the share by name
// first (findOwnShare); no clientToken on the create: a constant token would make RAM hand back the
// DELETED share of an earlier run after cleanup instead of creating a new one.
import {
  AcceptResourceShareInvitationCommand,
  AssociateResourceShareCommand,
  CreateResourceShareCommand,
  DeleteResourceShareCommand,
  type RAMClient,
  type ResourceShare,
} from '@aws-sdk/client-ram';
import { awsCall } from './call.js';

export interface ShareSpec {
  name: string;
  resourceArn: string;
  principal: string;
  migrationId: string;
}

export async function createShare(client: RAMClient, spec: ShareSpec): Promise<ResourceShare> {
  const out = await awsCall(`RAM CreateResourceShare ${spec.name}`, () =>
    client.send(
      new CreateResourceShareCommand({
        name: spec.name,
        resourceArns: [spec.resourceArn],
        principals: [spec.principal],
        // The target is usually outside the source's organization.
        allowExternalPrincipals: true,
        // No tags: tag-on-create would need ram:TagResource in the source role; the share is found by name.
      }),
    ),
  );
  return out.resourceShare!;
}

export async function associateWithShare(
  client: RAMClient,
  shareArn: string,
  missing: { resourceArns?: string[]; principals?: string[] },
): Promise<void> {
  await awsCall(`RAM AssociateResourceShare ${shareArn}`, () =>
    client.send(
      new AssociateResourceShareCommand({
        resourceShareArn: shareArn,
        ...(missing.resourceArns?.length ? { resourceArns: missing.resourceArns } : {}),
        ...(missing.principals?.length ? { principals: missing.principals } : {}),
      }),
    ),
  );
}

export async function acceptInvitation(client: RAMClient, invitationArn: string): Promise<string> {
  const out = await awsCall(`RAM AcceptResourceShareInvitation ${invitationArn}`, () =>
    client.send(new AcceptResourceShareInvitationCommand({ resourceShareInvitationArn: invitationArn })),
  );
  return out.resourceShareInvitation?.status ?? 'ACCEPTED';
}

/** Cleanup: deletes the share (RAM keeps it listed as DELETED; findOwnShare no longer returns it). */
export async function deleteShare(client: RAMClient, shareArn: string, clientToken: string): Promise<void> {
  await awsCall(`RAM DeleteResourceShare ${shareArn}`, () =>
    client.send(new DeleteResourceShareCommand({ resourceShareArn: shareArn, clientToken })),
  );
}
