// "Read the clone's binlog position" from RDS DescribeEvents: exact parameters, Marker pagination,
// the look-back window and the message parsing. moto never emits this event; covered here.
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeEventsCommand, RDSClient, type Event } from '@aws-sdk/client-rds';
import { localLambdaContext } from '../../shared/handler.js';
import { handler as readBinlogPosition } from '../../handlers/read-binlog-position.js';
import { firstBinlogPosition, lookBackStart, parseBinlogPositionMessage } from '../../shared/aws/binlog-events.js';
import { TGT, crossAccountState, resetCaches } from '../aws/mock-fixtures.js';

const rds = mockClient(RDSClient);
const ctx = localLambdaContext('test');
const inputsOf = () => rds.commandCalls(DescribeEventsCommand).map((c) => c.args[0].input);

const event = (Message: string, at: string): Event => ({
  SourceIdentifier: 'orders-prod-moved-writer',
  SourceType: 'db-instance',
  Message,
  EventCategories: ['notification'],
  Date: new Date(at),
  SourceArn: `arn:aws:rds:us-east-1:${TGT}:db:orders-prod-moved-writer`,
});

const polledState = () => ({
  ...crossAccountState(),
  clone: { done: true, attempts: 3, status: 'available', clusterIdentifier: 'orders-prod-moved', createdAt: '2026-11-24T08:00:00.000Z' },
  writer: { done: true, attempts: 5, status: 'available', instanceIdentifier: 'orders-prod-moved-writer', createdAt: '2026-11-24T08:20:00.000Z' },
});

beforeEach(() => {
  rds.reset();
  resetCaches();
});

describe('binlog position message', () => {
  it('takes the file, then the position: the last two tokens', () => {
    expect(parseBinlogPositionMessage('Binlog position from crash recovery is mysql-bin-changelog.000013 77991983')).toEqual({ file: 'mysql-bin-changelog.000013', position: 77991983 });
    expect(parseBinlogPositionMessage('  Binlog position from crash recovery is mysql-bin-changelog.000002 154 ')).toEqual({ file: 'mysql-bin-changelog.000002', position: 154 });
    expect(parseBinlogPositionMessage('DB instance restarted')).toBeNull();
    expect(parseBinlogPositionMessage('Binlog position from crash recovery is')).toBeNull();
    expect(parseBinlogPositionMessage('Binlog position from crash recovery is mysql-bin-changelog.000013 abc')).toBeNull();
  });

  it('uses the oldest crash-recovery event (a later one follows a reboot)', () => {
    expect(
      firstBinlogPosition([
        event('Binlog position from crash recovery is mysql-bin-changelog.000015 4', '2026-11-24T09:30:00Z'),
        event('Binlog position from crash recovery is mysql-bin-changelog.000013 77991983', '2026-11-24T08:25:00Z'),
      ]),
    ).toEqual({ file: 'mysql-bin-changelog.000013', position: 77991983 });
  });

  it('looks back an hour before the clone was created, never beyond the 14 days RDS keeps events', () => {
    const now = Date.parse('2026-11-24T09:00:00Z');
    expect(lookBackStart(polledState(), now).toISOString()).toBe('2026-11-24T07:00:00.000Z');
    const old = { clone: { ...polledState().clone, createdAt: '2026-10-01T00:00:00.000Z' }, writer: undefined };
    expect(lookBackStart(old, now).getTime()).toBe(now - 14 * 24 * 3600_000 + 60_000);
  });
});

describe("Read the clone's binlog position", () => {
  it('pages through DescribeEvents with Marker and returns the position', async () => {
    rds.on(DescribeEventsCommand, { Marker: undefined }).resolves({
      Events: [event('DB instance created', '2026-11-24T08:20:00Z'), event('DB instance restarted', '2026-11-24T08:24:00Z')],
      Marker: 'page-2-token',
    });
    rds.on(DescribeEventsCommand, { Marker: 'page-2-token' }).resolves({
      Events: [event('Binlog position from crash recovery is mysql-bin-changelog.000013 77991983', '2026-11-24T08:25:00Z')],
    });
    const out = await readBinlogPosition(polledState(), ctx);
    expect(out).toEqual({ done: true, attempts: 1, status: 'found', position: { file: 'mysql-bin-changelog.000013', position: 77991983 }, origin: 'describe-events' });
    expect(inputsOf()).toEqual([
      { SourceIdentifier: 'orders-prod-moved-writer', SourceType: 'db-instance', StartTime: new Date('2026-11-24T07:00:00.000Z'), Marker: undefined },
      { SourceIdentifier: 'orders-prod-moved-writer', SourceType: 'db-instance', StartTime: new Date('2026-11-24T07:00:00.000Z'), Marker: 'page-2-token' },
    ]);
  });

  it('reports not done (and counts the attempt) until the event appears', async () => {
    rds.on(DescribeEventsCommand).resolves({ Events: [event('DB instance created', '2026-11-24T08:20:00Z')] });
    const state = { ...polledState(), binlogPosition: { done: false, attempts: 4, status: 'waiting-for-event', origin: 'describe-events' as const } };
    expect(await readBinlogPosition(state, ctx)).toEqual({ done: false, attempts: 5, status: 'waiting-for-event', origin: 'describe-events' });
  });
});
