// "Share the cluster" (source account, RAM through the assumed role) and "Accept the share" (target
// account). moto implements neither RAM invitations nor AssociateResourceShare: covered here with
// responses shaped like the RAM API reference.
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  type ResourceShareAssociation,
  type ResourceShareInvitation,
  AcceptResourceShareInvitationCommand,
  AssociateResourceShareCommand,
  CreateResourceShareCommand,
  GetResourceShareAssociationsCommand,
  GetResourceShareInvitationsCommand,
  GetResourceSharesCommand,
  RAMClient,
  ResourceShareInvitationAlreadyAcceptedException,
  ResourceShareInvitationAlreadyRejectedException,
} from '@aws-sdk/client-ram';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { localLambdaContext } from '../../shared/handler.js';
import { handler as shareCluster } from '../../handlers/share-cluster.js';
import { handler as acceptShare } from '../../handlers/accept-share.js';
import { ASSUMED_KEY_ID, SOURCE_ARN, SRC, TGT, assumeRoleResponse, crossAccountState, resetCaches, sameAccounts } from '../aws/mock-fixtures.js';

const ram = mockClient(RAMClient);
const sts = mockClient(STSClient);
const ctx = localLambdaContext('test');
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the step to fail'); }, (e: Error) => e);
const inputsOf = (cmd: unknown) => ram.commandCalls(cmd as never).map((c) => c.args[0].input);

const SHARE_ARN = `arn:aws:ram:us-east-1:${SRC}:resource-share/7ab63972-b505-7e2a-420d-6f5d3EXAMPLE`;
const INVITATION_ARN = `arn:aws:ram:us-east-1:${SRC}:resource-share-invitation/ac7c6b6c-2a69-4b8f-8f6b-0eEXAMPLE`;
const share = { resourceShareArn: SHARE_ARN, name: 'crossmove-orders-2026-12', owningAccountId: SRC, allowExternalPrincipals: true, status: 'ACTIVE' as const, featureSet: 'STANDARD' as const };
const assoc = (associationType: 'PRINCIPAL' | 'RESOURCE', associatedEntity: string, status = 'ASSOCIATED'): ResourceShareAssociation => ({
  resourceShareArn: SHARE_ARN, resourceShareName: share.name, associatedEntity, associationType, status: status as ResourceShareAssociation['status'], external: associationType === 'PRINCIPAL',
});
const invitation = (status: string): ResourceShareInvitation => ({
  resourceShareInvitationArn: INVITATION_ARN, resourceShareName: share.name, resourceShareArn: SHARE_ARN, senderAccountId: SRC, receiverAccountId: TGT,
  invitationTimestamp: new Date('2026-11-24T08:00:00Z'), status: status as ResourceShareInvitation['status'],
});

beforeEach(() => {
  ram.reset();
  sts.reset();
  resetCaches();
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
});

describe('Share the cluster', () => {
  it('creates the share with exact parameters through the assumed role', async () => {
    ram.on(GetResourceSharesCommand).resolves({ resourceShares: [] });
    ram.on(CreateResourceShareCommand).resolves({ resourceShare: share });
    const out = await shareCluster(crossAccountState(), ctx);
    expect(out).toEqual({ resourceShareArn: SHARE_ARN, created: true });
    expect(inputsOf(GetResourceSharesCommand)).toEqual([{ resourceOwner: 'SELF', name: 'crossmove-orders-2026-12', resourceShareStatus: 'ACTIVE', nextToken: undefined }]);
    expect(inputsOf(CreateResourceShareCommand)).toEqual([
      {
        name: 'crossmove-orders-2026-12',
        resourceArns: [SOURCE_ARN],
        principals: [TGT],
        allowExternalPrincipals: true,
      },
    ]);
    // No constant clientToken: after cleanup RAM would answer a repeated token with the DELETED share.
    expect(inputsOf(CreateResourceShareCommand)[0]).not.toHaveProperty('clientToken');
    const creds = await Promise.all(ram.calls().map(async (c) => (await (c.thisValue as RAMClient).config.credentials()).accessKeyId));
    expect(new Set(creds)).toEqual(new Set([ASSUMED_KEY_ID]));
  });

  it('reuses an existing share (found on the second page) and creates nothing when it is complete', async () => {
    ram.on(GetResourceSharesCommand, { nextToken: undefined }).resolves({ resourceShares: [], nextToken: 'page-2' });
    ram.on(GetResourceSharesCommand, { nextToken: 'page-2' }).resolves({ resourceShares: [share] });
    ram.on(GetResourceShareAssociationsCommand, { associationType: 'PRINCIPAL' }).resolves({ resourceShareAssociations: [assoc('PRINCIPAL', TGT)] });
    ram.on(GetResourceShareAssociationsCommand, { associationType: 'RESOURCE' }).resolves({ resourceShareAssociations: [assoc('RESOURCE', SOURCE_ARN, 'ASSOCIATING')] });
    const out = await shareCluster(crossAccountState(), ctx);
    expect(out).toEqual({ resourceShareArn: SHARE_ARN, created: false });
    expect(inputsOf(GetResourceShareAssociationsCommand)).toEqual([
      { associationType: 'PRINCIPAL', resourceShareArns: [SHARE_ARN], nextToken: undefined },
      { associationType: 'RESOURCE', resourceShareArns: [SHARE_ARN], nextToken: undefined },
    ]);
    expect(ram.commandCalls(CreateResourceShareCommand)).toHaveLength(0);
    expect(ram.commandCalls(AssociateResourceShareCommand)).toHaveLength(0);
  });

  it('re-associates the target account and the cluster when they were removed from the share', async () => {
    ram.on(GetResourceSharesCommand).resolves({ resourceShares: [share] });
    ram.on(GetResourceShareAssociationsCommand, { associationType: 'PRINCIPAL' }).resolves({ resourceShareAssociations: [assoc('PRINCIPAL', TGT, 'DISASSOCIATED')] });
    ram.on(GetResourceShareAssociationsCommand, { associationType: 'RESOURCE' }).resolves({ resourceShareAssociations: [] });
    ram.on(AssociateResourceShareCommand).resolves({ resourceShareAssociations: [] });
    await shareCluster(crossAccountState(), ctx);
    expect(inputsOf(AssociateResourceShareCommand)).toEqual([{ resourceShareArn: SHARE_ARN, principals: [TGT], resourceArns: [SOURCE_ARN] }]);
  });

  it('is skipped in the same account', async () => {
    expect(await shareCluster({ ...crossAccountState(), accounts: sameAccounts }, ctx)).toEqual({ resourceShareArn: '', created: false, skipped: true });
    expect(ram.calls()).toHaveLength(0);
  });
});

describe('Accept the share', () => {
  const shared = () => ({ ...crossAccountState(), share: { resourceShareArn: SHARE_ARN, created: true } });

  it('accepts a PENDING invitation with exact parameters, in the target account', async () => {
    ram.on(GetResourceShareInvitationsCommand).resolves({ resourceShareInvitations: [invitation('PENDING')] });
    ram.on(AcceptResourceShareInvitationCommand).resolves({ resourceShareInvitation: invitation('ACCEPTED') });
    ram.on(GetResourceSharesCommand).resolves({ resourceShares: [share] });
    const out = await acceptShare(shared(), ctx);
    expect(out).toEqual({ invitationArn: INVITATION_ARN, status: 'ACCEPTED' });
    expect(inputsOf(GetResourceShareInvitationsCommand)).toEqual([{ resourceShareArns: [SHARE_ARN], nextToken: undefined }]);
    expect(inputsOf(AcceptResourceShareInvitationCommand)).toEqual([{ resourceShareInvitationArn: INVITATION_ARN }]);
    const creds = await Promise.all(ram.calls().map(async (c) => (await (c.thisValue as RAMClient).config.credentials()).accessKeyId));
    expect(creds).not.toContain(ASSUMED_KEY_ID);
  });

  it('does nothing when the invitation is already ACCEPTED (re-invocation)', async () => {
    ram.on(GetResourceShareInvitationsCommand).resolves({ resourceShareInvitations: [invitation('ACCEPTED')] });
    ram.on(GetResourceSharesCommand).resolves({ resourceShares: [share] });
    expect(await acceptShare(shared(), ctx)).toEqual({ invitationArn: INVITATION_ARN, status: 'ACCEPTED' });
    expect(ram.commandCalls(AcceptResourceShareInvitationCommand)).toHaveLength(0);
  });

  it('after accepting, throws TransientError until the share is ACTIVE for the target account (no clone before that)', async () => {
    ram.on(GetResourceShareInvitationsCommand)
      .resolvesOnce({ resourceShareInvitations: [invitation('PENDING')] })
      .resolves({ resourceShareInvitations: [invitation('ACCEPTED')] });
    ram.on(AcceptResourceShareInvitationCommand).resolves({ resourceShareInvitation: invitation('ACCEPTED') });
    ram.on(GetResourceSharesCommand).resolvesOnce({ resourceShares: [] }).resolves({ resourceShares: [share] });

    const first = await errorOf(acceptShare(shared(), ctx));
    expect(first.name).toBe('TransientError');
    expect(first.message).toContain(`not ACTIVE in account ${TGT} yet`);
    // The state machine's Retry re-invokes the step: accepted already, now visible.
    expect(await acceptShare(shared(), ctx)).toEqual({ invitationArn: INVITATION_ARN, status: 'ACCEPTED' });
    expect(ram.commandCalls(AcceptResourceShareInvitationCommand)).toHaveLength(1);
    expect(inputsOf(GetResourceSharesCommand)).toEqual([
      { resourceOwner: 'OTHER-ACCOUNTS', resourceShareArns: [SHARE_ARN] },
      { resourceOwner: 'OTHER-ACCOUNTS', resourceShareArns: [SHARE_ARN] },
    ]);
  });

  // The race of a retry: this attempt read PENDING, an earlier attempt (a Lambda that timed out after
  // its call) accepted meanwhile. RAM API reference, AcceptResourceShareInvitation, Errors:
  // ResourceShareInvitationAlreadyAcceptedException, HTTP 400 (REST-JSON; the SDK raises its class).
  it('treats ResourceShareInvitationAlreadyAcceptedException after a PENDING read as accepted', async () => {
    ram.on(GetResourceShareInvitationsCommand).resolves({ resourceShareInvitations: [invitation('PENDING')] });
    ram.on(AcceptResourceShareInvitationCommand).rejects(
      new ResourceShareInvitationAlreadyAcceptedException({
        message: `The invitation ${INVITATION_ARN} has already been accepted.`,
        $metadata: { httpStatusCode: 400, requestId: 'b2a3c4d5-0000-4e5f-8a9b-EXAMPLE' },
      }),
    );
    ram.on(GetResourceSharesCommand).resolvesOnce({ resourceShares: [] }).resolves({ resourceShares: [share] });
    // Not ACTIVE yet: retried like any accepted invitation, never a failure.
    expect((await errorOf(acceptShare(shared(), ctx))).name).toBe('TransientError');
    expect(await acceptShare(shared(), ctx)).toEqual({ invitationArn: INVITATION_ARN, status: 'ACCEPTED' });
  });

  it('explains an invitation rejected between the read and the accept', async () => {
    ram.on(GetResourceShareInvitationsCommand).resolves({ resourceShareInvitations: [invitation('PENDING')] });
    ram.on(AcceptResourceShareInvitationCommand).rejects(
      new ResourceShareInvitationAlreadyRejectedException({ message: 'The invitation has already been rejected.', $metadata: { httpStatusCode: 400 } }),
    );
    const err = await errorOf(acceptShare(shared(), ctx));
    expect(err.name).toBe('ResourceConflictError');
    expect(err.message).toContain('was REJECTED while crossmove accepted it; delete the share crossmove-orders-2026-12');
  });

  it('handles same-organization auto-accept (no invitation, share already usable)', async () => {
    ram.on(GetResourceShareInvitationsCommand).resolves({ resourceShareInvitations: [] });
    ram.on(GetResourceSharesCommand).resolves({ resourceShares: [{ ...share, owningAccountId: SRC }] });
    expect(await acceptShare(shared(), ctx)).toEqual({ invitationArn: null, status: 'ACTIVE' });
    expect(inputsOf(GetResourceSharesCommand)).toEqual([{ resourceOwner: 'OTHER-ACCOUNTS', resourceShareArns: [SHARE_ARN] }]);
  });

  it('throws TransientError while the invitation is not visible yet', async () => {
    ram.on(GetResourceShareInvitationsCommand).resolves({ resourceShareInvitations: [] });
    ram.on(GetResourceSharesCommand).resolves({ resourceShares: [] });
    const err = await errorOf(acceptShare(shared(), ctx));
    expect(err.name).toBe('TransientError');
    expect(err.message).toContain(`not visible in account ${TGT} yet`);
  });

  it('explains a REJECTED invitation', async () => {
    ram.on(GetResourceShareInvitationsCommand).resolves({ resourceShareInvitations: [invitation('REJECTED')] });
    const err = await errorOf(acceptShare(shared(), ctx));
    expect(err.name).toBe('ResourceConflictError');
    expect(err.message).toContain('is REJECTED; delete the share crossmove-orders-2026-12');
  });

  it('is skipped in the same account', async () => {
    expect(await acceptShare({ ...crossAccountState(), accounts: sameAccounts }, ctx)).toMatchObject({ skipped: true });
    expect(ram.calls()).toHaveLength(0);
  });
});
