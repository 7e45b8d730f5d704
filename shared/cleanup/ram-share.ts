// Cleanup: the RAM share of the source cluster (source account). Found by its name, as "Share the
// cluster" made it; already deleted = fine.
import { logStep } from '../logger.js';
import type { CleanupItem } from '../state.js';
import { errorName } from '../aws/call.js';
import { findOwnShare, sourceRamClient } from '../aws/ram.js';
import { deleteShare } from '../aws/ram-changes.js';
import { item, type CleanupState } from './types.js';

export async function removeShare(state: CleanupState): Promise<CleanupItem> {
  const { input, accounts } = state;
  const name = input.names.resourceShareName;
  if (!input.source.clusterArn) return item('ram-share', name, null, 'skipped', 'endpoint-only source: nothing was shared');
  if (accounts.sameAccount) return item('ram-share', name, accounts.source, 'skipped', 'same-account migration: nothing was shared');
  const ram = await sourceRamClient(input);
  const share = await findOwnShare(ram, name);
  if (!share) return item('ram-share', name, accounts.source, 'gone');
  logStep('delete the RAM resource share', { name, shareArn: share.resourceShareArn });
  try {
    await deleteShare(ram, share.resourceShareArn!, `${name}-delete`);
  } catch (err) {
    if (errorName(err) === 'UnknownResourceException') return item('ram-share', name, accounts.source, 'gone');
    throw err;
  }
  return item('ram-share', share.resourceShareArn!, accounts.source, 'removed');
}
