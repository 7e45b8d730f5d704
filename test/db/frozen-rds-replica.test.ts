// initialLoad.frozenSource rds-replica, its MySQL half on real MariaDB servers: RDS (aws-sdk-client-mock,
// DescribeDBInstances shaped as the API reference) reports the read replica available at the endpoint of
// a real replica of the primary, which has RDS's mysql.rds_stop_replication. "Check the frozen source"
// stops its replication the RDS way, takes the executed source position as the copy's point (checked
// to be one of the primary's binlog), and its fingerprint; a retried check finds it stopped and returns
// the same point; the primary keeps writing and the replica does not move.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import type { MariaDbServer } from '../../local/mariadb.js';
import { checkRdsReplica } from '../../shared/initial-load/frozen-source/rds-replica.js';
import type { FrozenSourceState, MigrationState } from '../../shared/state.js';
import { scalar, slaveStatus, sql, startServers, stateFor, until, useLocalSecrets } from './fixtures.js';

const rds = mockClient(RDSClient);
const INSTANCE_ARN = 'arn:aws:rds:us-east-1:111111111111:db:orders-mysql';
let primary: MariaDbServer;
let replica: MariaDbServer;

beforeAll(async () => {
  useLocalSecrets();
  [primary, replica] = await startServers(2, 361);
  await sql(replica, `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port}, MASTER_USER='${primary.admin.username}', MASTER_PASSWORD='${primary.admin.password}', MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=4, MASTER_USE_GTID=no`);
  await sql(replica, 'START SLAVE');
  // RDS for MySQL/MariaDB stops a replica only through its procedure (the master user lacks SUPER).
  await sql(replica, "CREATE PROCEDURE mysql.rds_stop_replication() BEGIN STOP SLAVE; SELECT 'Slave is down or disabled' AS Message; END");
  await sql(primary, 'CREATE DATABASE app');
  await sql(primary, 'CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))');
  await sql(primary, "INSERT INTO app.t VALUES (1, 'a'), (2, 'b')");
  await until(async () => Number(await scalar(replica, 'SELECT COUNT(*) FROM app.t')) === 2);
}, 120_000);

afterAll(async () => {
  rds.restore();
  await Promise.all([primary?.stop(), replica?.stop()]);
});

describe('frozen source rds-replica: stopped at its executed source position', () => {
  it('stops replication with mysql.rds_stop_replication, records the position and fingerprint; the primary moves on, the replica does not', async () => {
    const state: MigrationState = stateFor(primary, replica, { migrationId: 'frozen-rds' });
    state.input.initialLoad.frozenSource = { kind: 'rds-replica', sourceInstanceArn: INSTANCE_ARN };
    const id = state.input.names.frozenSourceIdentifier;
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: id }).resolves({
      DBInstances: [{ DBInstanceIdentifier: id, DBInstanceStatus: 'available', Engine: 'mariadb', ReadReplicaSourceDBInstanceIdentifier: INSTANCE_ARN, Endpoint: { Address: replica.host, Port: replica.port }, InstanceCreateTime: new Date() }],
    });
    const before: FrozenSourceState = { done: false, attempts: 1, status: 'creating', kind: 'rds-replica', identifier: id, created: true, endpoint: null, position: null, fingerprint: null };

    const frozen = await checkRdsReplica({ ...state, frozenSource: before }, 2);
    const status = await slaveStatus(replica);
    expect(status).toMatchObject({ Slave_SQL_Running: 'No', Slave_IO_Running: 'No' });
    expect(frozen).toMatchObject({ done: true, status: 'stopped', kind: 'rds-replica', endpoint: { host: replica.host, port: replica.port } });
    expect(frozen.position).toEqual({ file: status!.Relay_Master_Log_File, position: Number(status!.Exec_Master_Log_Pos) });
    expect(frozen.fingerprint!.executed).toBe(`${status!.Relay_Master_Log_File}:${status!.Exec_Master_Log_Pos}`);

    // The primary keeps writing: the replica holds the point it was stopped at.
    await sql(primary, "INSERT INTO app.t VALUES (3, 'c')");
    expect(Number(await scalar(replica, 'SELECT COUNT(*) FROM app.t'))).toBe(2);
    // A retried check (the state machine's next poll, or a re-run) finds it stopped: the same point.
    const again = await checkRdsReplica({ ...state, frozenSource: before }, 3);
    expect(again.position).toEqual(frozen.position);
    expect(again.fingerprint).toEqual(frozen.fingerprint);
  });

  it('refuses a replica that RDS still lists but that no longer replicates (promoted): nothing to freeze', async () => {
    const state: MigrationState = stateFor(primary, replica, { migrationId: 'frozen-rds-promoted' });
    state.input.initialLoad.frozenSource = { kind: 'rds-replica', sourceInstanceArn: INSTANCE_ARN };
    const id = state.input.names.frozenSourceIdentifier;
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: id }).resolves({ DBInstances: [{ DBInstanceIdentifier: id, DBInstanceStatus: 'available', Endpoint: { Address: primary.host, Port: primary.port } }] });
    const before: FrozenSourceState = { done: false, attempts: 1, status: 'creating', kind: 'rds-replica', identifier: id, endpoint: null, position: null, fingerprint: null };
    await expect(checkRdsReplica({ ...state, frozenSource: before }, 2)).rejects.toMatchObject({ name: 'FrozenSourceError', message: expect.stringContaining('reports no replication') });
  });
});
