// "Share the cluster" (source account) and "Accept the share" (target account) through AWS RAM.
// Same-account migrations need neither.
import { ResourceConflictError, ResourceNotFoundError, TransientError } from '../errors.js';
import { errorName } from './call.js';
import { logStep } from '../logger.js';
import type { MigrationState, ShareAcceptance, ShareResult } from '../state.js';
import { findInvitation, findOwnShare, findShareFromOtherAccount, shareAssociations, sourceRamClient, targetRamClient } from './ram.js';
import { acceptInvitation, associateWithShare, createShare } from './ram-changes.js';

const LIVE = new Set(['ASSOCIATED', 'ASSOCIATING']);

export async function ensureShare(state: Pick<MigrationState, 'input' | 'accounts'>): Promise<ShareResult> {
  const { input, accounts } = state;
  if (accounts.sameAccount) return { resourceShareArn: '', created: false, skipped: true };
  const clusterArn = input.source.clusterArn!;
  const target = accounts.target!;
  const name = input.names.resourceShareName;
  const ram = await sourceRamClient(input);

  const existing = await findOwnShare(ram, name);
  if (!existing) {
    logStep('create the RAM resource share', { name, clusterArn, principal: target });
    const share = await createShare(ram, { name, resourceArn: clusterArn, principal: target, migrationId: input.migrationId });
    return { resourceShareArn: share.resourceShareArn!, created: true };
  }
  // Reuse: a retried step (or an earlier run) made it; make sure it still shares this cluster with this account.
  const shareArn = existing.resourceShareArn!;
  const principals = await shareAssociations(ram, shareArn, 'PRINCIPAL');
  const resources = await shareAssociations(ram, shareArn, 'RESOURCE');
  const missing = {
    principals: principals.some((a) => a.associatedEntity === target && LIVE.has(a.status ?? '')) ? [] : [target],
    resourceArns: resources.some((a) => a.associatedEntity === clusterArn && LIVE.has(a.status ?? '')) ? [] : [clusterArn],
  };
  if (missing.principals.length || missing.resourceArns.length) {
    logStep('add missing associations to the RAM resource share', { shareArn, ...missing });
    await associateWithShare(ram, shareArn, missing);
  }
  return { resourceShareArn: shareArn, created: false };
}

export async function acceptShare(state: Pick<MigrationState, 'input' | 'accounts' | 'share'>): Promise<ShareAcceptance> {
  const { input, accounts } = state;
  if (accounts.sameAccount || state.share?.skipped) return { invitationArn: null, status: 'NOT_NEEDED', skipped: true };
  const shareArn = state.share?.resourceShareArn;
  if (!shareArn) throw new ResourceNotFoundError('No resource share to accept: "Share the cluster" must run before "Accept the share"');
  const ram = targetRamClient(input);

  const invitation = await findInvitation(ram, shareArn);
  if (invitation?.status === 'PENDING') {
    logStep('accept the RAM invitation', { invitationArn: invitation.resourceShareInvitationArn, shareArn });
    await acceptPending(ram, invitation.resourceShareInvitationArn!, shareArn, input.names.resourceShareName, accounts.source);
  }
  if (invitation?.status === 'PENDING' || invitation?.status === 'ACCEPTED') {
    // Accepting is asynchronous: until the share is ACTIVE for this account the clone would fail with
    // DBClusterNotFoundFault. The state machine retries TransientError with backoff; the re-invocation
    // finds the invitation ACCEPTED and checks again.
    if (!(await findShareFromOtherAccount(ram, shareArn))) {
      throw new TransientError(`The RAM share ${shareArn} was accepted but is not ACTIVE in account ${accounts.target} yet`);
    }
    return { invitationArn: invitation.resourceShareInvitationArn!, status: 'ACCEPTED' };
  }
  if (invitation && (invitation.status === 'REJECTED' || invitation.status === 'EXPIRED')) {
    throw new ResourceConflictError(
      `The RAM invitation ${invitation.resourceShareInvitationArn} for share ${shareArn} is ${invitation.status}; delete the share ${input.names.resourceShareName} in account ${accounts.source} and re-run the migration`,
    );
  }
  // Within an organization with RAM sharing enabled there is no invitation: the share is usable at once.
  const usable = await findShareFromOtherAccount(ram, shareArn);
  if (usable) return { invitationArn: null, status: 'ACTIVE' };
  throw new TransientError(`The RAM invitation for share ${shareArn} is not visible in account ${accounts.target} yet`);
}

/**
 * Accepts an invitation read as PENDING. An earlier attempt (a Lambda that timed out after its call, or a
 * retry racing it) may have accepted it in between: RAM then answers
 * ResourceShareInvitationAlreadyAcceptedException, which means the goal is reached, not a failure.
 * Rejected or expired in between is what a REJECTED/EXPIRED read means.
 */
async function acceptPending(ram: Parameters<typeof acceptInvitation>[0], invitationArn: string, shareArn: string, shareName: string, sourceAccount: string | null): Promise<void> {
  try {
    await acceptInvitation(ram, invitationArn);
  } catch (err) {
    const name = errorName(err);
    if (name === 'ResourceShareInvitationAlreadyAcceptedException') return;
    if (name === 'ResourceShareInvitationAlreadyRejectedException' || name === 'ResourceShareInvitationExpiredException') {
      throw new ResourceConflictError(
        `The RAM invitation ${invitationArn} for share ${shareArn} was ${name === 'ResourceShareInvitationExpiredException' ? 'EXPIRED' : 'REJECTED'} while crossmove accepted it; delete the share ${shareName} in account ${sourceAccount} and re-run the migration`,
      );
    }
    throw err;
  }
}
