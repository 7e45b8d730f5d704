// AWS RAM, read-only: the share crossmove made in the source account, its associations, and the
// invitation the target account received. Changes live in ram-changes.ts. RAM is regional: both sides
// talk to the source cluster's region.
import {
  GetResourceShareAssociationsCommand,
  GetResourceShareInvitationsCommand,
  GetResourceSharesCommand,
  RAMClient,
  type ResourceShare,
  type ResourceShareAssociation,
  type ResourceShareInvitation,
} from '@aws-sdk/client-ram';
import type { MigrationInput } from '../input/validate.js';
import { awsCall } from './call.js';
import { regionOfArn, sourceClientConfig, targetClientConfig } from './source-account.js';

export async function sourceRamClient(input: Pick<MigrationInput, 'source' | 'migrationId'>): Promise<RAMClient> {
  return new RAMClient(await sourceClientConfig(input));
}

export function targetRamClient(input: Pick<MigrationInput, 'source' | 'target'>): RAMClient {
  const config = targetClientConfig(input);
  return new RAMClient({ ...config, region: regionOfArn(input.source.clusterArn) ?? config.region });
}

/** The ACTIVE share with this name owned by the caller, or null. */
export async function findOwnShare(client: RAMClient, name: string): Promise<ResourceShare | null> {
  let nextToken: string | undefined;
  do {
    const out = await awsCall(`RAM GetResourceShares ${name}`, () =>
      client.send(new GetResourceSharesCommand({ resourceOwner: 'SELF', name, resourceShareStatus: 'ACTIVE', nextToken })),
    );
    const hit = out.resourceShares?.find((s) => s.name === name && s.status === 'ACTIVE');
    if (hit) return hit;
    nextToken = out.nextToken;
  } while (nextToken);
  return null;
}

/** A share owned by another account that the caller can use (already accepted or auto-accepted), or null. */
export async function findShareFromOtherAccount(client: RAMClient, shareArn: string): Promise<ResourceShare | null> {
  const out = await awsCall(`RAM GetResourceShares ${shareArn}`, () =>
    client.send(new GetResourceSharesCommand({ resourceOwner: 'OTHER-ACCOUNTS', resourceShareArns: [shareArn] })),
  );
  return out.resourceShares?.find((s) => s.resourceShareArn === shareArn && s.status === 'ACTIVE') ?? null;
}

export async function shareAssociations(
  client: RAMClient,
  shareArn: string,
  associationType: 'PRINCIPAL' | 'RESOURCE',
): Promise<ResourceShareAssociation[]> {
  const all: ResourceShareAssociation[] = [];
  let nextToken: string | undefined;
  do {
    const out = await awsCall(`RAM GetResourceShareAssociations ${shareArn}`, () =>
      client.send(new GetResourceShareAssociationsCommand({ associationType, resourceShareArns: [shareArn], nextToken })),
    );
    all.push(...(out.resourceShareAssociations ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  return all;
}

/** The target account's invitation to this share, newest first when there are several. */
export async function findInvitation(client: RAMClient, shareArn: string): Promise<ResourceShareInvitation | null> {
  const all: ResourceShareInvitation[] = [];
  let nextToken: string | undefined;
  do {
    const out = await awsCall(`RAM GetResourceShareInvitations ${shareArn}`, () =>
      client.send(new GetResourceShareInvitationsCommand({ resourceShareArns: [shareArn], nextToken })),
    );
    all.push(...(out.resourceShareInvitations ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  const mine = all.filter((i) => i.resourceShareArn === shareArn);
  mine.sort((a, b) => (b.invitationTimestamp?.getTime() ?? 0) - (a.invitationTimestamp?.getTime() ?? 0));
  return mine[0] ?? null;
}

/** Accounts a resource is shared with through any of the owner's RAM shares (read-only). */
export async function accountsSharedWith(client: RAMClient, resourceArn: string): Promise<string[]> {
  const shareArns = new Set<string>();
  let nextToken: string | undefined;
  do {
    const out = await awsCall(`RAM GetResourceShareAssociations ${resourceArn}`, () =>
      client.send(new GetResourceShareAssociationsCommand({ associationType: 'RESOURCE', resourceArn, associationStatus: 'ASSOCIATED', nextToken })),
    );
    for (const a of out?.resourceShareAssociations ?? []) if (a.resourceShareArn) shareArns.add(a.resourceShareArn);
    nextToken = out?.nextToken;
  } while (nextToken);
  const accounts = new Set<string>();
  for (const shareArn of shareArns) {
    for (const p of await shareAssociations(client, shareArn, 'PRINCIPAL')) {
      if (p.status === 'ASSOCIATED' && p.associatedEntity && /^\d{12}$/.test(p.associatedEntity)) accounts.add(p.associatedEntity);
    }
  }
  return [...accounts];
}
