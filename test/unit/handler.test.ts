import { describe, expect, it } from 'vitest';
import { BinlogPurgedError } from '../../shared/errors.js';
import { localLambdaContext, sanitizeError, stepHandler } from '../../shared/handler.js';
import { redact, registerSecretValue } from '../../shared/redact.js';

describe('step handler wrapper', () => {
  it('keeps the typed error name (matched by the state machine) and drops the stack trace', async () => {
    const handler = stepHandler('Start replication on the target', async () => {
      throw new BinlogPurgedError('binlog mysql-bin.000003 was purged; set binlogRetentionHours to 96');
    });
    const err = (await handler({ input: { migrationId: 'm1' } } as never, localLambdaContext('startReplication')).catch((e: Error) => e)) as Error;
    expect(err.name).toBe('BinlogPurgedError');
    expect(err.message).toContain('mysql-bin.000003');
    expect(err.stack).toBe(`BinlogPurgedError: ${err.message}`);
  });

  it('masks registered secrets and password clauses in error messages', () => {
    registerSecretValue('s3cr3t-pass-value');
    const err = sanitizeError(new Error("Access denied for user 'repl' (using password: s3cr3t-pass-value)"));
    expect(err.message).not.toContain('s3cr3t-pass-value');
    expect(redact("CREATE USER 'r'@'%' IDENTIFIED BY 'abc''def'")).toBe("CREATE USER 'r'@'%' IDENTIFIED BY '********'");
    expect(redact("CHANGE MASTER TO MASTER_PASSWORD='x\\'y', MASTER_PORT=3306")).toBe("CHANGE MASTER TO MASTER_PASSWORD='********', MASTER_PORT=3306");
  });

  it('keeps AWS SDK error names such as ThrottlingException for Retry', () => {
    const sdkError = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    expect(sanitizeError(sdkError).name).toBe('ThrottlingException');
    expect(sanitizeError('plain string').name).toBe('Error');
  });
});
